// orchestron-embedded: the embedded tier in a child process (hosts/embedded.host.ts) on a fresh SQLite file.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import type { Driver, DriverContext, ProcessRef, Shape, WorkloadSample } from '../types.ts';
import { countEffects } from './effects.ts';
import { ChildHost } from './child-host.ts';

const HOST = fileURLToPath(new URL('../hosts/embedded.host.ts', import.meta.url));

export function embeddedDriver(ctx: DriverContext): Driver {
  const dir = join(ctx.workDir, 'embedded');
  const effects = join(dir, 'effects.log');
  const logFile = join(dir, 'host.log');
  let host: ChildHost | undefined;
  let restarts = 0;
  const live = (): ChildHost => {
    if (!host) throw new Error('orchestron-embedded is not started');
    return host;
  };
  const launch = async (): Promise<void> => {
    host = await ChildHost.start(HOST, { '--data': dir, '--effects': effects }, logFile);
  };
  return {
    system: 'orchestron-embedded',
    kind: 'orchestron',
    async start() {
      mkdirSync(dir, { recursive: true });
      await launch();
    },
    runWorkload(shape: Shape, inFlight: number, count: number, maxSeconds: number) {
      return live().request<WorkloadSample>({ type: 'run', shape, inFlight, count, maxSeconds });
    },
    async stop() {
      await host?.stop();
      host = undefined;
    },
    pids(): ProcessRef[] {
      const pid = host?.pid;
      return pid === undefined ? [] : [{ role: 'engine+workers', name: 'embedded', pids: () => [pid] }];
    },
    async writes() {
      const file = join(dir, 'events.sqlite');
      if (!existsSync(file)) return { events: null, rows: null };
      const db = new Database(file, { readonly: true, fileMustExist: true });
      try {
        const events = (db.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n;
        return { events, rows: events };
      } finally {
        db.close();
      }
    },
    crash: {
      submit: (shape, count) => live().request<string[]>({ type: 'submit', shape, count }),
      async kill() {
        await live().kill();
      },
      async restart() {
        restarts++;
        ctx.log(`orchestron-embedded: restarting the host on the same SQLite file (restart ${restarts})`);
        await launch();
      },
      awaitAll: (handles, timeoutMs) => live().request<number>({ type: 'await', handles, timeoutMs }),
      async executions() {
        return countEffects(effects);
      },
    },
    settings: () => ({
      store: 'SQLite (WAL, synchronous=FULL, group commit), one file',
      bus: 'in-process',
      workers:
        'one worker-sdk worker, concurrency 256, the SQLite idempotency ledger in a file of its own (as npm start)',
      process: 'engine, workers and the closed loop in one Node process (a child of the bench)',
    }),
  };
}
