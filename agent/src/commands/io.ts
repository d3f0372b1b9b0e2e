import type { Logger } from '../transport/logger';

/** Where a command writes: the lead wires process.stdout/stderr and the pino logger in cli.ts. */
export interface CommandIO {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  logger: Logger;
}
