import type { Exec } from '../exec';

/** What a collect function needs from the outside world; all of it injectable in tests. */
export interface ProbeContext {
  exec: Exec;
  /** Reads a file; rejects when it is missing. Injected so tests never touch the real disk. */
  readFile: (path: string) => Promise<string>;
  /** Lists a directory's entries; rejects when it is missing. */
  readDir: (path: string) => Promise<string[]>;
  platform: NodeJS.Platform;
  now: () => Date;
}

/** A collect function for one section on one OS: never throws, returns unknown with a reason instead. */
export type Collect<Section> = (ctx: ProbeContext) => Promise<Section>;
