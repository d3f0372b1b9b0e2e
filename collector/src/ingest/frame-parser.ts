import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { RawData } from 'ws';
import { parseMessage, validateFullReportEnvelope, validateMessage, type Facts, type ParseResult } from '@vigie/shared';
import { canonicalFacts, canonicalSections, factsFromCanonical } from '../util/canonical-json';
import { sha256Hex } from '../util/crypto';
import { deflateFacts } from '../util/facts-column';
import { objectSpanAt } from '../util/json-scan';

/** Canonical JSON of a full report's facts, as canonical-json computes it, and its hash. */
export interface FactsCanonical {
  json: string;
  /** Its SHA-256 (the facts hash), computed on the worker too. */
  hash: string;
  /** Each section's [key, start, end] in `json`: its canonical text is that slice. */
  sections: [string, number, number][];
  /** `json` deflated as the store keeps it (collector/src/util/facts-column.ts); left out when the facts repeat the stored ones. */
  deflated?: Uint8Array;
}

export interface FrameJob {
  id: number;
  bytes: Uint8Array;
  maxBytes: number;
  /** The hash of the facts the collector holds for the frame's device, when a full report is expected to repeat them. */
  storedFactsHash?: string;
}

/** With `canonical`, a full report's facts may be left out of `result` (withoutFacts): the canonical text carries them. */
export type FrameDone = { id: number; result: ParseResult; canonical: FactsCanonical | null };

/**
 * A parse result, with the facts hash of a full report when the worker computed it. The store
 * compares it with the stored hash, so a report that repeats the stored facts is recognised
 * without building its facts on the main thread at all (see adopt).
 */
export type ParsedFrame = ParseResult & {
  factsHash?: string;
  /** Builds a full report's facts from the worker's text, sharing what did not change with the device's previous facts. */
  factsFrom?: (previous: Facts | null) => Facts;
  /** The facts' canonical JSON deflated, as the store writes it. */
  factsDeflated?: Uint8Array;
};

/**
 * parseMessage for a frame as ws hands it over: the size is checked on its bytes,
 * which ws already counted, instead of re-counting the UTF-8 of a decoded string
 * in JavaScript (a millisecond for a 45 KB report); then the same JSON parse and
 * schema validation, with the same typed errors. With `canonical`, a full report's
 * facts also get their canonical JSON (for the facts hash).
 */
export function parseFrameBytes(bytes: Buffer, maxBytes: number, canonical: boolean, storedFactsHash?: string): { result: ParseResult; canonical: FactsCanonical | null } {
  if (bytes.byteLength > maxBytes) return { result: { ok: false, error: { code: 'too-large', message: `frame exceeds ${maxBytes} bytes` } }, canonical: null };
  const text = bytes.toString('utf8');
  if (canonical && storedFactsHash !== undefined) {
    const repeated = repeatedFullReport(text, storedFactsHash);
    if (repeated) return repeated;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { result: { ok: false, error: { code: 'malformed', message: `not JSON: ${(e as Error).message}` } }, canonical: null };
  }
  const result = validateMessage(value);
  return { result, canonical: canonical ? factsCanonical(result) : null };
}

function factsCanonical(result: ParseResult): FactsCanonical | null {
  if (!result.ok || result.message.type !== 'report' || result.message.body.kind !== 'full') return null;
  // Not plain JSON data (never from JSON.parse): null, and the main thread's own path handles it.
  const { json, hash } = canonicalFacts(result.message.body.facts);
  const sections = canonicalSections(result.message.body.facts);
  // Deflated here, off the main thread, in case the store writes them (facts that changed).
  return sections ? { json, hash, sections, deflated: deflateFacts(json) } : null;
}

const FACTS_KEY = '"facts":';
/** Stands in for the facts while the rest of a repeated report is parsed: a key drawn at start, which no peer can know. */
const placeholderKey = randomBytes(16).toString('hex');
const placeholder = `{"${placeholderKey}":0}`;

/**
 * A full report whose facts, as received, are the very canonical text of the facts the collector
 * holds for the device (same SHA-256): content validated when it was stored, so the facts are
 * neither parsed nor validated again; only the rest of the report is (an agent's first report
 * after a reconnect, as every agent sends after a collector restart; the facts are 99% of the
 * frame). Agents write their facts as canonical text (validated facts serialise in the schemas'
 * key order), so the text is found by its brackets and hashed as it is.
 *
 * The rest of the report is parsed with an unguessable placeholder where the facts were: finding
 * the placeholder as body.facts proves the hashed text sat exactly there (not inside a string, nor
 * under a key that a later duplicate overrides), so the whole frame parses to the stored facts.
 * Facts stored by an older collector under a looser schema are thus taken again as they are: the
 * same content the store already holds and serves, nothing new.
 * Null when anything differs: the full parse and validation then run and give their precise errors.
 */
function repeatedFullReport(text: string, storedFactsHash: string): { result: ParseResult; canonical: FactsCanonical } | null {
  const at = text.indexOf(FACTS_KEY);
  if (at < 0) return null;
  const start = at + FACTS_KEY.length;
  const span = objectSpanAt(text, start);
  if (!span) return null;
  const json = text.slice(start, span.end);
  const hash = sha256Hex(json);
  if (hash !== storedFactsHash) return null;
  let value: unknown;
  try {
    value = JSON.parse(text.slice(0, start) + placeholder + text.slice(span.end));
  } catch {
    return null;
  }
  const facts = (value as { body?: { facts?: unknown } } | null)?.body?.facts;
  if (typeof facts !== 'object' || facts === null || !Object.hasOwn(facts, placeholderKey)) return null;
  const result = validateFullReportEnvelope(value);
  if (!result.ok) return null;
  const sections = span.members.map(([key, from, to]): [string, number, number] => [key, from - start, to - start]);
  return { result, canonical: { json, hash, sections } };
}

/** What the worker posts back: a full report's facts travel as their canonical text only. */
export function withoutFacts(done: FrameDone): FrameDone {
  const { result } = done;
  if (!done.canonical || !result.ok || result.message.type !== 'report' || result.message.body.kind !== 'full') return done;
  const { facts: _facts, ...body } = result.message.body;
  return { ...done, result: { ok: true, message: { ...result.message, body: body as typeof result.message.body } } };
}

/**
 * The main thread's side of a worker's result. A full report's facts come as canonical text
 * and are built from it only when read (a getter): most full reports repeat the stored facts,
 * which the store tells from the hash alone. Built facts get the worker's texts and hash in
 * the canonical-json memo, so nothing is canonicalised or hashed twice.
 */
export function adopt(done: FrameDone): ParsedFrame {
  const { result, canonical } = done;
  if (!canonical || !result.ok || result.message.type !== 'report' || result.message.body.kind !== 'full') return result;
  const body = result.message.body;
  let facts: Facts | undefined;
  const build = (previous: Facts | null): Facts => (facts ??= factsFromCanonical(canonical.json, canonical.hash, canonical.sections, previous));
  Object.defineProperty(body, 'facts', { enumerable: true, configurable: true, get: () => build(null) });
  return { ...result, factsHash: canonical.hash, factsFrom: build, ...(canonical.deflated ? { factsDeflated: canonical.deflated } : {}) };
}

function bytesOf(data: RawData): Buffer {
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
}

export interface FrameParserOptions {
  /** Worker threads; 0 parses everything on the main thread. */
  workers: number;
  /** Frames smaller than this are parsed inline: a round trip to a worker would cost more than it saves. */
  minWorkerBytes: number;
}

/** A worker that died this many times is not restarted; frames are then parsed inline. */
const MAX_RESTARTS = 5;

/**
 * Parses agent frames. A full report is ~45 KB of JSON: decoding, parsing and
 * validating it, then canonicalising its facts for the hash, is the biggest CPU
 * cost of a report that can leave the main thread, so big frames go to a worker
 * (round robin over `workers`), where they parse while the main thread writes
 * earlier reports. Results come back as structured clones, which cost the main
 * thread about what JSON.parse would. Without the compiled worker (tests run from
 * the TypeScript sources) or after repeated worker crashes, frames parse inline.
 */
export class FrameParser {
  private readonly workers: (Worker | null)[] = [];
  private readonly pending = new Map<number, { slot: number; bytes: Buffer; maxBytes: number; resolve: (r: ParsedFrame) => void }>();
  private nextId = 1;
  private turn = 0;
  private restarts = 0;
  private closed = false;
  private readonly script = join(__dirname, 'frame-worker.js');

  constructor(private readonly options: FrameParserOptions) {
    if (options.workers > 0 && existsSync(this.script)) for (let i = 0; i < options.workers; i++) this.workers.push(this.spawn(i));
  }

  /** The parse result, in a promise when a worker does it. Order is kept by the caller's queue. */
  parse(data: RawData, isBinary: boolean, maxBytes: number, storedFactsHash?: string): ParsedFrame | Promise<ParsedFrame> {
    if (isBinary) return parseMessage(undefined, maxBytes);
    const bytes = bytesOf(data);
    const slots = this.workers.flatMap((w, i) => (w ? [i] : []));
    if (bytes.byteLength < this.options.minWorkerBytes || bytes.byteLength > maxBytes || slots.length === 0) return parseFrameBytes(bytes, maxBytes, false).result;
    const slot = slots[this.turn++ % slots.length] as number;
    const worker = this.workers[slot] as Worker;
    const id = this.nextId++;
    return new Promise<ParsedFrame>((resolve) => {
      this.pending.set(id, { slot, bytes, maxBytes, resolve });
      // A copy, since ws may hand out a slice of a shared buffer; the copy is then transferred, not cloned again.
      const copy = new Uint8Array(new ArrayBuffer(bytes.byteLength));
      copy.set(bytes);
      const job: FrameJob = { id, bytes: copy, maxBytes, ...(storedFactsHash !== undefined ? { storedFactsHash } : {}) };
      worker.postMessage(job, [copy.buffer]);
    });
  }

  private spawn(slot: number): Worker {
    const worker = new Worker(this.script);
    // The sockets keep the collector alive, not its parser.
    worker.unref();
    worker.on('message', (done: FrameDone) => {
      const job = this.pending.get(done.id);
      if (!job) return;
      this.pending.delete(done.id);
      job.resolve(adopt(done));
    });
    worker.on('error', () => undefined);
    worker.on('exit', () => {
      this.workers[slot] = null;
      // What the dead worker held is parsed here; nothing is lost, only slower.
      for (const [id, job] of this.pending) {
        if (job.slot !== slot) continue;
        this.pending.delete(id);
        job.resolve(parseFrameBytes(job.bytes, job.maxBytes, false).result);
      }
      if (!this.closed && this.restarts < MAX_RESTARTS) {
        this.restarts++;
        this.workers[slot] = this.spawn(slot);
      }
    });
    return worker;
  }

  /** Whether big frames go to worker threads (false in tests run from the sources). */
  get threaded(): boolean {
    return this.workers.some((w) => w !== null);
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.workers.map((w) => w?.terminate()));
  }
}
