import type { Logger as PinoLogger } from 'pino';

/** The part of pino the transport uses; tests pass `pino({ level: 'silent' })`. */
export type Logger = Pick<PinoLogger, 'debug' | 'info' | 'warn' | 'error'>;
