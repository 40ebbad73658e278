// Before each system starts: PostgreSQL's dirty buffers and the page cache written to disk, so that no system is
// measured while the disk still takes the writes of the one before it (PostgreSQL's checkpointer, a peer's data
// directory). Every system gets it, in every repetition.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { PG_URL, withClient } from './drivers/pg-admin.ts';

const run = promisify(execFile);

/** Runs CHECKPOINT and sync(1); resolves with how long that took, in ms. A failure is reported, not thrown. */
export async function settleDisk(log: (line: string) => void): Promise<number> {
  const started = Date.now();
  try {
    await withClient(PG_URL, (client) => client.query('CHECKPOINT'));
    await run('sync');
  } catch (error) {
    log(`bench: could not settle the disk before the next system (${(error as Error).message}); going on`);
  }
  return Date.now() - started;
}
