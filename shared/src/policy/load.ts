import { LineCounter, parseDocument, isMap, isSeq, type Node } from 'yaml';
import { z } from 'zod';
import { policy, type Policy } from './model';

export interface PolicyError {
  /** The file the policy came from, as given by the caller. */
  file: string;
  /** Where inside it, as a dotted path such as `rules[2].check.maxSeconds`; empty for the whole file. */
  path: string;
  line: number | null;
  column: number | null;
  message: string;
}

export type LoadResult = { ok: true; policy: Policy } | { ok: false; errors: PolicyError[] };

export function formatPolicyError(e: PolicyError): string {
  const where = e.line !== null ? `${e.file}:${e.line}:${e.column}` : e.file;
  return `${where}: ${e.path ? `${e.path}: ` : ''}${e.message}`;
}

function dottedPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, key) => {
    if (typeof key === 'number') return `${acc}[${key}]`;
    return acc ? `${acc}.${String(key)}` : String(key);
  }, '');
}

/** The deepest node that exists on the path, so an error points at the closest line. */
function nodeAt(root: Node | null, path: readonly PropertyKey[]): Node | null {
  let node: Node | null = root;
  for (const key of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => (p.key as { value?: unknown } | null)?.value === key);
      if (!pair) return node;
      node = (pair.value as Node | null) ?? (pair.key as Node);
    } else if (isSeq(node) && typeof key === 'number') {
      const item = node.items[key] as Node | undefined;
      if (!item) return node;
      node = item;
    } else {
      return node;
    }
  }
  return node;
}

/**
 * Parses and validates a policy file. A bad file is reported with its name and
 * the exact place that is wrong, so an admin editing YAML can fix it at once.
 */
export function loadPolicy(source: string, file: string): LoadResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(source, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      errors: doc.errors.map((err) => {
        const pos = lineCounter.linePos(err.pos[0]);
        return { file, path: '', line: pos.line, column: pos.col, message: `YAML syntax: ${err.message.split('\n')[0]}` };
      }),
    };
  }
  const result = policy.safeParse(doc.toJS());
  if (result.success) return { ok: true, policy: result.data };
  return { ok: false, errors: result.error.issues.map((issue) => toPolicyError(issue, doc.contents as Node | null, lineCounter, file)) };
}

function toPolicyError(issue: z.core.$ZodIssue, root: Node | null, lineCounter: LineCounter, file: string): PolicyError {
  const node = nodeAt(root, issue.path);
  const pos = node?.range ? lineCounter.linePos(node.range[0]) : null;
  return {
    file,
    path: dottedPath(issue.path),
    line: pos ? pos.line : null,
    column: pos ? pos.col : null,
    message: issue.message,
  };
}
