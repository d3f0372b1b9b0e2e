import { promises as fs } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { facts as factsSchema, type Facts } from '@vigie/shared';
import { ensurePrivateDir, readJsonFile, writeFileAtomic } from './fsutil';

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);

/** What `vigie-agent enroll` leaves behind: enough to reconnect and authenticate. */
export const enrolmentSchema = z
  .object({
    server: z.string().min(1),
    deviceId: z.string().min(1),
    org: z.string().min(1),
    token: z.string().min(1),
    /** SHA-256 of the collector's CA (or leaf) certificate, lower-case hex. */
    caFingerprint: z.string().optional(),
    /** A CA certificate in PEM, when the operator gave a file instead of a fingerprint. */
    caPem: z.string().optional(),
  })
  .strict();
export type Enrolment = z.infer<typeof enrolmentSchema>;

/**
 * The facts the collector will hold once every queued report is applied: the
 * base of the next delta. Deltas chain in outbox order, so a delta queued while
 * offline applies on the one before it, not on an older acknowledged state.
 */
export const factsHeadSchema = z.object({ facts: factsSchema, factsHash: sha256Hex }).strict();
export type FactsHead = { facts: Facts; factsHash: string };

/** Small, often-written notes on the collector's side of the sync. */
export const syncMetaSchema = z
  .object({
    /** The last `ack.factsHash`: what the collector holds for sure. */
    ackedHash: sha256Hex.optional(),
    /** The collector's capabilities from its last `config`, to negotiate while offline. */
    serverCapabilities: z.array(z.string()).optional(),
    /** The scan interval from the last `config`, so a restart while offline keeps it. */
    intervalSeconds: z.number().int().positive().optional(),
  })
  .strict();
export type SyncMeta = z.infer<typeof syncMetaSchema>;

/** Rebuildable: if it is lost, the next report is simply a full one. */
export interface SyncState {
  head?: FactsHead;
  meta: SyncMeta;
}

export class StateError extends Error {
  override name = 'StateError';
}

/** The agent's state dir: the enrolment (token), the sync state, and the outbox beside them. */
export class AgentStateStore {
  constructor(readonly dir: string) {}

  get enrolmentPath(): string {
    return path.join(this.dir, 'enrolment.json');
  }

  get headPath(): string {
    return path.join(this.dir, 'facts.json');
  }

  get metaPath(): string {
    return path.join(this.dir, 'sync.json');
  }

  get outboxDir(): string {
    return path.join(this.dir, 'outbox');
  }

  /** Creates the dir readable by the agent only: it holds the device token. */
  async init(): Promise<void> {
    await ensurePrivateDir(this.dir);
  }

  async readEnrolment(): Promise<Enrolment | undefined> {
    let raw: unknown;
    try {
      raw = await readJsonFile(this.enrolmentPath);
    } catch (e) {
      throw new StateError(`cannot read ${this.enrolmentPath}: ${(e as Error).message}; enrol again`);
    }
    if (raw === undefined) return undefined;
    const parsed = enrolmentSchema.safeParse(raw);
    if (!parsed.success) {
      throw new StateError(`${this.enrolmentPath} is not a valid enrolment (${parsed.error.issues[0]?.message ?? 'invalid'}); enrol again`);
    }
    return parsed.data;
  }

  /** The token is a credential: mode 0600, written atomically so a crash never leaves half a token. */
  async writeEnrolment(enrolment: Enrolment): Promise<void> {
    await this.init();
    await writeFileAtomic(this.enrolmentPath, `${JSON.stringify(enrolmentSchema.parse(enrolment), null, 2)}\n`, 0o600);
  }

  /** A missing or damaged sync state reads as empty: the cost is one full report. */
  async readSync(): Promise<SyncState> {
    const read = async <T>(file: string, schema: z.ZodType<T>): Promise<T | undefined> => {
      try {
        const parsed = schema.safeParse(await readJsonFile(file));
        return parsed.success ? parsed.data : undefined;
      } catch {
        return undefined;
      }
    };
    const head = await read(this.headPath, factsHeadSchema);
    const meta = (await read(this.metaPath, syncMetaSchema)) ?? {};
    return head ? { head: head as FactsHead, meta } : { meta };
  }

  /** Written once per scan. Facts name software and users: private like the rest of the dir. */
  async writeHead(head: FactsHead | undefined): Promise<void> {
    await this.init();
    if (head) await writeFileAtomic(this.headPath, JSON.stringify(head), 0o600);
    else await fs.rm(this.headPath, { force: true });
  }

  /** Written on acks and configs; kept apart from the facts so it stays small. */
  async writeMeta(meta: SyncMeta): Promise<void> {
    await this.init();
    await writeFileAtomic(this.metaPath, JSON.stringify(meta), 0o600);
  }
}
