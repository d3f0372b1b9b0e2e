import { sha256 } from '@noble/hashes/sha2';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils';
import stringify from 'safe-stable-stringify';
import type { Facts, PartialFacts } from '../facts';

/**
 * SHA-256 of the facts in canonical JSON (sorted keys). Agent and collector
 * compute it the same way, so a delta names the exact base it applies to.
 */
export function factsHash(value: Facts | PartialFacts): string {
  return bytesToHex(sha256(utf8ToBytes(stringify(value) ?? 'null')));
}

/** Applies a delta's sections over a base; sections not in the delta are kept. */
export function applyDelta(base: Facts, sections: PartialFacts): Facts {
  return { ...base, ...sections } as Facts;
}

/** The sections of `next` that differ from `previous`: what a delta report carries. */
export function changedSections(previous: Facts, next: Facts): PartialFacts {
  const delta: Record<string, unknown> = {};
  for (const key of Object.keys(next) as (keyof Facts)[]) {
    if (stringify(previous[key]) !== stringify(next[key])) delta[key] = next[key];
  }
  return delta as PartialFacts;
}
