/**
 * How a list in a device's facts differs from the same list in its previous facts, when it was
 * built by keeping the previous list's unchanged elements (the collector does, for every report:
 * collector/src/util/canonical-json.ts). Each element of the list is then either one of the
 * previous list's elements, in the same order, or one of `added`; the previous elements it left
 * out are `removed`.
 *
 * Whatever keeps a result per list (the software rule's outcome, the timeline, the licenses
 * inventory) can then work from the few changes of a report that updates one application instead
 * of its 300 items. Facts are never mutated once built, which is what makes this safe.
 */
export interface ListChanges<T> {
  previous: readonly T[];
  added: readonly T[];
  removed: readonly T[];
}

/** The previous list is held weakly: a device's facts must not keep its facts before them alive. */
const recorded = new WeakMap<readonly unknown[], { previous: WeakRef<readonly unknown[]>; added: readonly unknown[]; removed: readonly unknown[] }>();

/** Records that `list` is `previous` without `removed`, with `added` put in. */
export function recordListChanges<T>(list: readonly T[], previous: readonly T[], added: readonly T[], removed: readonly T[]): void {
  recorded.set(list, { previous: new WeakRef(previous), added, removed });
}

/** How `list` was built from its previous list, if it was recorded and that list is still in memory. */
export function listChanges<T>(list: readonly T[]): ListChanges<T> | undefined {
  const r = recorded.get(list);
  const previous = r?.previous.deref();
  if (r === undefined || previous === undefined) return undefined;
  return { previous: previous as readonly T[], added: r.added as readonly T[], removed: r.removed as readonly T[] };
}
