import { deflateRawSync, inflateRawSync } from 'node:zlib';

/** Far above any device's facts (a frame is 4 MB at most): a corrupt row cannot make the collector allocate without bound. */
const MAX_FACTS_TEXT_BYTES = 64 * 1024 * 1024;

/**
 * device_facts.facts holds a device's canonical facts JSON deflated (raw deflate, level 1): about a
 * ninth of the text for 300 software items, so a report that changes the facts writes ~5 KB instead of
 * ~45 KB, on the collector's main thread, in the WAL and in the database file. Full reports are
 * deflated on the frame-parsing worker (collector/src/ingest/frame-parser.ts). Rows written before
 * hold the text itself, and are read as such.
 */
export function deflateFacts(json: string | Uint8Array): Buffer {
  return deflateRawSync(json, { level: 1 });
}

/** The canonical JSON in a device_facts.facts value, deflated or not. */
export function factsText(column: string | Uint8Array): string {
  return typeof column === 'string' ? column : inflateRawSync(column, { maxOutputLength: MAX_FACTS_TEXT_BYTES }).toString('utf8');
}
