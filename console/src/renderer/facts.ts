/**
 * The renderer imports only types from @vigie/shared: its runtime (zod, yaml)
 * would weigh on the bundle for nothing. This mirrors shared's isUnknown.
 */
import type { UnknownSection } from '@vigie/shared';

export function isUnknown(section: unknown): section is UnknownSection {
  return typeof section === 'object' && section !== null && (section as { unknown?: unknown }).unknown === true;
}
