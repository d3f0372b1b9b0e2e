import { readFile, readdir } from 'node:fs/promises';
import { exec } from '../exec';
import type { ProbeContext } from './types';

/** The real machine. */
export function systemContext(): ProbeContext {
  return {
    exec,
    readFile: (path) => readFile(path, 'utf8'),
    readDir: (path) => readdir(path),
    platform: process.platform,
    now: () => new Date(),
  };
}
