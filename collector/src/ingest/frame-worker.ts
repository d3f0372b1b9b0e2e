import { parentPort } from 'node:worker_threads';
import { parseFrameBytes, withoutFacts, type FrameJob, type FrameDone } from './frame-parser';

/**
 * The frame-parsing worker: UTF-8 decoding, JSON.parse, the schema validation and
 * the facts' canonical JSON and hash, for big frames, off the main thread (which
 * keeps TLS, SQLite, the evaluation and the acks). See FrameParser.
 */
parentPort?.on('message', (job: FrameJob) => {
  const done: FrameDone = { id: job.id, ...parseFrameBytes(Buffer.from(job.bytes.buffer, job.bytes.byteOffset, job.bytes.byteLength), job.maxBytes, true, job.storedFactsHash) };
  // The facts go back as their canonical text only: a structured clone of 300 objects costs the main thread more.
  parentPort?.postMessage(withoutFacts(done));
});
