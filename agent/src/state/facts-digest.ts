import { createHash, type Hash } from 'node:crypto';
import type { Facts, PartialFacts } from '@vigie/shared';

/**
 * The daemon's per-scan hashing, without building the canonical JSON.
 *
 * shared's factsHash() (pure JS, it runs in the collector and the browser too)
 * builds the whole canonical string with safe-stable-stringify, copies it to
 * bytes and hashes them with @noble/hashes; changedSections() stringifies every
 * section of both the previous and the new facts. Per scan that was ~5 MB of
 * short-lived strings in the long-running daemon, alive long enough to be
 * promoted to old space, where only a full GC reclaims them (issue 3,
 * Benchmark: the daemon must stay ≤ 60 MB; measured in docs/benchmarks.md).
 *
 * Here the same canonical JSON is written in small chunks straight into
 * node:crypto hashes: one for the whole facts (must equal shared's factsHash:
 * facts-digest.test.ts checks it) and one per section, so the next scan finds
 * the changed sections by comparing 64-character digests instead of keeping
 * and re-stringifying the previous facts.
 */

export interface FactsDigest {
  /** Equal to factsHash(facts) from @vigie/shared. */
  factsHash: string;
  /** SHA-256 of each section's canonical JSON: only compared, never sent. */
  sections: Record<string, string>;
}

/** Big enough to keep the number of native hash calls low, small enough to die young. */
const CHUNK = 8192;

class HashWriter {
  private buf = '';
  constructor(private readonly hashes: Hash[]) {}

  write(text: string): void {
    this.buf += text;
    if (this.buf.length >= CHUNK) this.flush();
  }

  flush(): void {
    if (this.buf === '') return;
    for (const h of this.hashes) h.update(this.buf, 'utf8');
    this.buf = '';
  }
}

// Matches safe-stable-stringify's strEscape: strings without these characters are written as is.
// eslint-disable-next-line no-control-regex
const NEEDS_ESCAPE = /[\u0000-\u001f\u0022\u005c\ud800-\udfff]/;

function writeString(w: HashWriter, s: string): void {
  if (NEEDS_ESCAPE.test(s)) {
    w.write(JSON.stringify(s));
  } else {
    w.write('"');
    w.write(s);
    w.write('"');
  }
}

/** toJSON applied, as JSON.stringify and safe-stable-stringify do. */
function resolve(key: string, value: unknown): unknown {
  if (typeof value === 'object' && value !== null && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    return (value as { toJSON: (k: string) => unknown }).toJSON(key);
  }
  return value;
}

/** Values that safe-stable-stringify leaves out of objects (and writes as null in arrays). */
function omitted(value: unknown): boolean {
  return value === undefined || typeof value === 'function' || typeof value === 'symbol';
}

/**
 * safe-stable-stringify's default output (keys sorted by code unit, non-finite
 * numbers as null, bigint as digits), for the acyclic JSON-like data facts are.
 */
function writeValue(w: HashWriter, value: unknown): void {
  switch (typeof value) {
    case 'string':
      writeString(w, value);
      return;
    case 'number':
      w.write(Number.isFinite(value) ? String(value) : 'null');
      return;
    case 'boolean':
      w.write(value ? 'true' : 'false');
      return;
    case 'bigint':
      w.write(String(value));
      return;
    case 'object': {
      if (value === null) {
        w.write('null');
        return;
      }
      if (Array.isArray(value)) {
        w.write('[');
        for (let i = 0; i < value.length; i++) {
          if (i > 0) w.write(',');
          const item = resolve(String(i), value[i] as unknown);
          if (omitted(item)) w.write('null');
          else writeValue(w, item);
        }
        w.write(']');
        return;
      }
      writeObject(w, value as Record<string, unknown>);
      return;
    }
    default:
      // undefined, functions and symbols: callers leave them out or write null.
      w.write('null');
  }
}

function writeObject(w: HashWriter, obj: Record<string, unknown>): void {
  w.write('{');
  let first = true;
  for (const key of Object.keys(obj).sort()) {
    const v = resolve(key, obj[key]);
    if (omitted(v)) continue;
    if (!first) w.write(',');
    first = false;
    writeString(w, key);
    w.write(':');
    writeValue(w, v);
  }
  w.write('}');
}

/** The facts' hash (as shared's factsHash) and each section's, in one pass. */
export function digestFacts(facts: Facts | PartialFacts): FactsDigest {
  const whole = createHash('sha256');
  const sections: Record<string, string> = {};
  const top = new HashWriter([whole]);
  const record = facts as Record<string, unknown>;
  top.write('{');
  let first = true;
  for (const key of Object.keys(record).sort()) {
    const v = resolve(key, record[key]);
    if (omitted(v)) continue;
    if (!first) top.write(',');
    first = false;
    writeString(top, key);
    top.write(':');
    top.flush();
    const section = createHash('sha256');
    const w = new HashWriter([whole, section]);
    writeValue(w, v);
    w.flush();
    sections[key] = section.digest('hex');
  }
  top.write('}');
  top.flush();
  return { factsHash: whole.digest('hex'), sections };
}

/**
 * The sections of `facts` whose digest differs from `previous`: what shared's
 * changedSections(previousFacts, facts) returns, from digests alone.
 */
export function changedSectionsByDigest(previous: FactsDigest, next: FactsDigest, facts: Facts): PartialFacts {
  const delta: Record<string, unknown> = {};
  for (const key of Object.keys(facts)) {
    if (previous.sections[key] !== next.sections[key]) delta[key] = (facts as Record<string, unknown>)[key];
  }
  return delta as PartialFacts;
}
