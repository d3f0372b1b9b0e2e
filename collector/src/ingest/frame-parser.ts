import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { RawData } from 'ws';
import { parseMessage, validateMessage, type Facts, type ParseResult } from '@vigie/shared';
import { canonicalFacts, canonicalSections, factsFromCanonical } from '../util/canonical-json';
import { deflateFacts } from '../util/facts-column';
import { fullReportFromText, type FactsCanonical } from './full-report-text';

export type { FactsCanonical } from './full-report-text';

export interface FrameJob {
  id: number;
  /** The frame's bytes, or where they are in the memory shared with the workers (see FrameParser). */
  bytes: Uint8Array | { slot: number; length: number };
  maxBytes: number;
  /** The hash of the facts the collector holds for the frame's device, when a full report is expected to repeat them. */
  storedFactsHash?: string;
}

/** What each frame-parsing worker is started with: the memory frames are handed over in. */
export interface FrameWorkerData {
  shared: SharedArrayBuffer;
  slotBytes: number;
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
  if (canonical) {
    const read = fullReportFromText(text, storedFactsHash, bytes);
    if (read) return read;
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
 * Frames up to this size (a full report of 300 applications is ~36 KB) are handed to a worker in
 * memory shared with the workers: a copy there and a message of a few bytes cost the main thread a
 * quarter of what posting the frame itself does, transferred or not (measured: 3 µs against 13 µs
 * for 36 KB). Bigger frames, and frames past the slots in flight, are posted.
 */
export const SHARED_SLOT_BYTES = 64 * 1024;
const SHARED_SLOTS = 128;

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
  private readonly pending = new Map<number, { slot: number; bytes: Buffer; maxBytes: number; shared: number | null; resolve: (r: ParsedFrame) => void }>();
  private readonly shared = new SharedArrayBuffer(SHARED_SLOT_BYTES * SHARED_SLOTS);
  private readonly sharedView = new Uint8Array(this.shared);
  /** The shared slots no frame in flight holds. */
  private readonly freeSlots = Array.from({ length: SHARED_SLOTS }, (_, i) => SHARED_SLOTS - 1 - i);
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
      const hash = storedFactsHash !== undefined ? { storedFactsHash } : {};
      const shared = bytes.byteLength <= SHARED_SLOT_BYTES ? (this.freeSlots.pop() ?? null) : null;
      this.pending.set(id, { slot, bytes, maxBytes, shared, resolve });
      if (shared !== null) {
        this.sharedView.set(bytes, shared * SHARED_SLOT_BYTES);
        const job: FrameJob = { id, bytes: { slot: shared, length: bytes.byteLength }, maxBytes, ...hash };
        worker.postMessage(job);
        return;
      }
      // A copy, since ws may hand out a slice of a shared buffer; the copy is then transferred, not cloned again.
      const copy = new Uint8Array(new ArrayBuffer(bytes.byteLength));
      copy.set(bytes);
      const job: FrameJob = { id, bytes: copy, maxBytes, ...hash };
      worker.postMessage(job, [copy.buffer]);
    });
  }

  private spawn(slot: number): Worker {
    const worker = new Worker(this.script, { workerData: { shared: this.shared, slotBytes: SHARED_SLOT_BYTES } satisfies FrameWorkerData });
    // The sockets keep the collector alive, not its parser.
    worker.unref();
    worker.on('message', (done: FrameDone) => {
      const job = this.pending.get(done.id);
      if (!job) return;
      this.settle(done.id, job.shared);
      job.resolve(adopt(done));
    });
    worker.on('error', () => undefined);
    worker.on('exit', () => {
      this.workers[slot] = null;
      // What the dead worker held is parsed here; nothing is lost, only slower.
      for (const [id, job] of this.pending) {
        if (job.slot !== slot) continue;
        this.settle(id, job.shared);
        job.resolve(parseFrameBytes(job.bytes, job.maxBytes, false).result);
      }
      if (!this.closed && this.restarts < MAX_RESTARTS) {
        this.restarts++;
        this.workers[slot] = this.spawn(slot);
      }
    });
    return worker;
  }

  /** A job is over: its shared slot, if it had one, is free again (the worker is done with it, or dead). */
  private settle(id: number, shared: number | null): void {
    this.pending.delete(id);
    if (shared !== null) this.freeSlots.push(shared);
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
