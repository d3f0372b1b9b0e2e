import { parentPort, workerData } from 'node:worker_threads';
import { parseFrameBytes, withoutFacts, type FrameDone, type FrameJob, type FrameWorkerData } from './frame-parser';

/**
 * The frame-parsing worker: UTF-8 decoding, JSON.parse, the schema validation and
 * the facts' canonical JSON and hash, for big frames, off the main thread (which
 * keeps TLS, SQLite, the evaluation and the acks). See FrameParser.
 */
const { shared, slotBytes } = workerData as FrameWorkerData;

parentPort?.on('message', (job: FrameJob) => {
  // A frame in shared memory is read before the answer is posted: the slot is given to another frame only after.
  const bytes = 'slot' in job.bytes ? Buffer.from(shared, job.bytes.slot * slotBytes, job.bytes.length) : Buffer.from(job.bytes.buffer, job.bytes.byteOffset, job.bytes.byteLength);
  const done: FrameDone = { id: job.id, ...parseFrameBytes(bytes, job.maxBytes, true, job.storedFactsHash) };
  // The facts go back as their canonical text only: a structured clone of 300 objects costs the main thread more.
  parentPort?.postMessage(withoutFacts(done));
});
