/** Entry point of the Electron main process (package.json "main"). */
import { start } from './main';

start().catch((err: unknown) => {
  console.error('Vigie console failed to start:', err);
  process.exit(1);
});
