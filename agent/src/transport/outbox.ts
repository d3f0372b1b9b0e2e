import { promises as fs } from 'node:fs';
import path from 'node:path';
import { validateMessage, type ReportMessage, type UsbEventMessage } from '@vigie/shared';
import { ensurePrivateDir, fsyncDir, readJsonFile, TMP_PREFIX, writeFileAtomic } from '../state/fsutil';

/** What waits in the outbox: the messages the collector acknowledges one by one. */
export type OutboxMessage = ReportMessage | UsbEventMessage;

/** A message before the outbox numbers it: the outbox assigns `seq` and, on reports, `dropped`. */
export type OutboxDraft = Omit<ReportMessage, 'seq' | 'dropped'> | UsbEventMessage;

/** Agent-side notes kept beside a message, never sent. */
export interface EntryMeta {
  /** factsHash() of the facts the collector holds once this report is applied: checked against the ack. */
  factsHash?: string;
}

export interface OutboxEntry {
  seq: number;
  /** reportId or eventId: what the ack names. */
  id: string;
  message: OutboxMessage;
  meta: EntryMeta;
  /** Size on disk, what the byte bound counts. */
  bytes: number;
}

export interface OutboxOptions {
  /** Most messages kept; beyond it the oldest are dropped. */
  maxEntries?: number;
  /** Most bytes kept (approximately: file contents); beyond it the oldest are dropped. */
  maxBytes?: number;
}

export const DEFAULT_OUTBOX_MAX_ENTRIES = 2000;
export const DEFAULT_OUTBOX_MAX_BYTES = 64 * 1024 * 1024;

const ENTRY_FILE = /^(\d{12})\.json$/;
const META_FILE = 'meta.json';

interface OutboxMeta {
  nextSeq: number;
  /** Messages dropped and not yet counted in a queued report's `dropped`. */
  dropped: number;
}

export function entryId(message: OutboxMessage): string {
  return message.type === 'report' ? message.reportId : message.eventId;
}

function fileName(seq: number): string {
  return `${String(seq).padStart(12, '0')}.json`;
}

/**
 * The durable outbox. Each pending message is one file named by its zero-padded
 * seq, written atomically (tmp, fsync, rename, fsync dir), so after a crash the
 * dir holds whole messages only, readable in seq order. A message leaves only
 * when acknowledged, or when the bound forces the oldest out; those drops are
 * counted on disk and carried by the next report's `dropped`.
 */
export class Outbox {
  private readonly list: OutboxEntry[];
  private meta: OutboxMeta;
  private totalBytes: number;
  /** Serialises disk operations so a concurrent add and remove never interleave. */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly dir: string,
    private readonly maxEntries: number,
    private readonly maxBytes: number,
    entries: OutboxEntry[],
    meta: OutboxMeta,
  ) {
    this.list = entries;
    this.meta = meta;
    this.totalBytes = entries.reduce((sum, e) => sum + e.bytes, 0);
  }

  /** Opens (or creates) the outbox in `dir`, discarding torn temporary files from a crash. */
  static async open(dir: string, options: OutboxOptions = {}): Promise<Outbox> {
    await ensurePrivateDir(dir);
    const rawMeta = (await readJsonFile(path.join(dir, META_FILE)).catch(() => undefined)) as Partial<OutboxMeta> | undefined;
    const meta: OutboxMeta = {
      nextSeq: Number.isSafeInteger(rawMeta?.nextSeq) ? (rawMeta?.nextSeq as number) : 1,
      dropped: Number.isSafeInteger(rawMeta?.dropped) ? (rawMeta?.dropped as number) : 0,
    };
    const entries: OutboxEntry[] = [];
    let cleaned = false;
    for (const name of await fs.readdir(dir)) {
      const file = path.join(dir, name);
      if (name.startsWith(TMP_PREFIX)) {
        // A write that never reached its rename: the message was never queued.
        await fs.rm(file, { force: true });
        cleaned = true;
        continue;
      }
      const match = ENTRY_FILE.exec(name);
      if (!match) continue;
      const entry = await readEntry(file, Number(match[1]));
      if (!entry) {
        // Renamed files are whole by construction; a damaged one means disk trouble. Count it as lost.
        await fs.rm(file, { force: true });
        meta.dropped += 1;
        cleaned = true;
        continue;
      }
      entries.push(entry);
    }
    entries.sort((a, b) => a.seq - b.seq);
    const last = entries[entries.length - 1];
    // The entry is written before the meta, so a crash in between leaves a file ahead of nextSeq.
    if (last && last.seq >= meta.nextSeq) meta.nextSeq = last.seq + 1;
    const outbox = new Outbox(dir, options.maxEntries ?? DEFAULT_OUTBOX_MAX_ENTRIES, options.maxBytes ?? DEFAULT_OUTBOX_MAX_BYTES, entries, meta);
    if (cleaned) {
      await fsyncDir(dir);
      await outbox.saveMeta();
    }
    return outbox;
  }

  /** The pending messages, oldest first. */
  entries(): readonly OutboxEntry[] {
    return this.list;
  }

  get size(): number {
    return this.list.length;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  /** Drops not yet carried by a queued report. */
  get droppedPending(): number {
    return this.meta.dropped;
  }

  has(id: string): boolean {
    return this.list.some((e) => e.id === id);
  }

  /**
   * Queues a message durably. A report gets the next seq and the drop count so
   * far; when the bound is reached the oldest messages go first. Resolves once
   * the message is on disk.
   */
  add(draft: OutboxDraft, meta: EntryMeta = {}): Promise<{ entry: OutboxEntry; evicted: OutboxEntry[] }> {
    return this.serial(async () => {
      const seq = this.meta.nextSeq;
      const build = (dropped: number): OutboxMessage =>
        draft.type === 'report' ? { ...draft, seq, dropped } : draft;
      let message = build(this.meta.dropped);
      // Serialised once in the usual case (nothing evicted): a full report is ~100 KB of string.
      let text = serialize(seq, meta, message);
      const estimate = Buffer.byteLength(text);
      const evicted: OutboxEntry[] = [];
      while (this.list.length > 0 && (this.list.length + 1 > this.maxEntries || this.totalBytes + estimate > this.maxBytes)) {
        const oldest = this.list.shift() as OutboxEntry;
        this.totalBytes -= oldest.bytes;
        // A dropped report takes the drops it carried with it: count them again.
        this.meta.dropped += 1 + (oldest.message.type === 'report' ? oldest.message.dropped : 0);
        evicted.push(oldest);
        await fs.rm(path.join(this.dir, fileName(oldest.seq)), { force: true });
      }
      if (evicted.length > 0) {
        message = build(draft.type === 'report' ? this.meta.dropped : 0);
        text = serialize(seq, meta, message);
      }
      await writeFileAtomic(path.join(this.dir, fileName(seq)), text, 0o600);
      const entry: OutboxEntry = { seq, id: entryId(message), message, meta, bytes: Buffer.byteLength(text) };
      this.list.push(entry);
      this.totalBytes += entry.bytes;
      // Written after the entry: a crash in between over-counts drops once, never forgets them.
      this.meta = { nextSeq: seq + 1, dropped: draft.type === 'report' ? 0 : this.meta.dropped };
      await this.saveMeta();
      return { entry, evicted };
    });
  }

  /** Forgets an acknowledged message. Resolves to the entry, or undefined when it was not pending. */
  remove(id: string): Promise<OutboxEntry | undefined> {
    return this.serial(async () => {
      const index = this.list.findIndex((e) => e.id === id);
      if (index < 0) return undefined;
      const [entry] = this.list.splice(index, 1) as [OutboxEntry];
      this.totalBytes -= entry.bytes;
      await fs.rm(path.join(this.dir, fileName(entry.seq)), { force: true });
      await fsyncDir(this.dir);
      return entry;
    });
  }

  /** Forgets a message the collector refused for good, counting it as dropped. */
  discard(id: string): Promise<OutboxEntry | undefined> {
    return this.serial(async () => {
      const index = this.list.findIndex((e) => e.id === id);
      if (index < 0) return undefined;
      const [entry] = this.list.splice(index, 1) as [OutboxEntry];
      this.totalBytes -= entry.bytes;
      this.meta.dropped += 1 + (entry.message.type === 'report' ? entry.message.dropped : 0);
      await fs.rm(path.join(this.dir, fileName(entry.seq)), { force: true });
      await this.saveMeta();
      return entry;
    });
  }

  private saveMeta(): Promise<void> {
    return writeFileAtomic(path.join(this.dir, META_FILE), JSON.stringify(this.meta), 0o600);
  }

  private serial<T>(op: () => Promise<T>): Promise<T> {
    const next = this.queue.then(op, op);
    this.queue = next.catch(() => undefined);
    return next;
  }
}

function serialize(seq: number, meta: EntryMeta, message: OutboxMessage): string {
  return JSON.stringify({ seq, meta, message });
}

async function readEntry(file: string, seq: number): Promise<OutboxEntry | undefined> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  let raw: { seq?: unknown; meta?: unknown; message?: unknown };
  try {
    raw = JSON.parse(text) as typeof raw;
  } catch {
    return undefined;
  }
  if (raw.seq !== seq) return undefined;
  const checked = validateMessage(raw.message);
  if (!checked.ok || (checked.message.type !== 'report' && checked.message.type !== 'usb-event')) return undefined;
  const meta = typeof raw.meta === 'object' && raw.meta !== null ? (raw.meta as EntryMeta) : {};
  return { seq, id: entryId(checked.message), message: checked.message, meta, bytes: Buffer.byteLength(text) };
}
