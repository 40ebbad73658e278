// dbos and dbos-queue: DBOS Transact in a child process (hosts/dbos.host.ts) on a database of its own,
// dropped and created again at every start.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { postgresServerPids } from '../proc-sampler.ts';
import type { Driver, DriverContext, ProcessRef, Shape, WorkloadSample } from '../types.ts';
import { ChildHost } from './child-host.ts';
import { countEffects } from './effects.ts';
import { databaseUrl, dropDatabase, recreateDatabase, schemaRows, withClient } from './pg-admin.ts';

const HOST = fileURLToPath(new URL('../hosts/dbos.host.ts', import.meta.url));
export const DBOS_DATABASE = 'benchh_dbos';

export function dbosDriver(ctx: DriverContext, mode: 'inline' | 'queue'): Driver {
  const system = mode === 'queue' ? 'dbos-queue' : 'dbos';
  const dir = join(ctx.workDir, system);
  const effects = join(dir, 'effects.log');
  const url = databaseUrl(DBOS_DATABASE);
  let host: ChildHost | undefined;
  const live = (): ChildHost => {
    if (!host) throw new Error(`${system} is not started`);
    return host;
  };
  const launch = async (): Promise<void> => {
    host = await ChildHost.start(HOST, { '--db': url, '--mode': mode, '--effects': effects }, join(dir, 'host.log'));
  };
  return {
    system,
    kind: 'peer',
    async start() {
      mkdirSync(dir, { recursive: true });
      recreateDatabase(DBOS_DATABASE);
      await launch();
    },
    runWorkload(shape: Shape, inFlight: number, count: number, maxSeconds: number) {
      return live().request<WorkloadSample>({ type: 'run', shape, inFlight, count, maxSeconds });
    },
    async stop() {
      await host?.stop();
      host = undefined;
      try {
        dropDatabase(DBOS_DATABASE);
      } catch (error) {
        ctx.log(
          `${system}: could not drop ${DBOS_DATABASE}: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    },
    pids(): ProcessRef[] {
      const pid = host?.pid;
      return [
        ...(pid === undefined ? [] : [{ role: 'dbos+workflows', name: system, pids: () => [pid] }]),
        { role: 'postgres', name: 'postgres (server)', pids: postgresServerPids, shared: true },
      ];
    },
    writes: () => withClient(url, async (client) => ({ events: null, rows: (await schemaRows(client, 'dbos')).total })),
    crash: {
      submit: (shape, count) => live().request<string[]>({ type: 'submit', shape, count }),
      kill: () => live().kill(),
      restart: launch,
      awaitAll: (handles, timeoutMs) => awaitSuccess(url, handles, timeoutMs),
      executions: async () => countEffects(effects),
    },
    settings: () => ({
      version: '@dbos-inc/dbos-sdk 5.3',
      database: `${DBOS_DATABASE} on the local PostgreSQL, created at every start, dropped at every stop`,
      mode:
        mode === 'queue'
          ? 'DBOS queue (minPollingIntervalMs 20), result by getResult({ pollingIntervalMs: 20 }), enqueued and run in one process'
          : 'workflow function called in-process',
      systemDatabasePoolSize: '10 (the default)',
    }),
  };
}

/** Polls workflow_status until every one of `ids` succeeded or the time is up; resolves with how many did. */
async function awaitSuccess(url: string, ids: readonly string[], timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  return withClient(url, async (client) => {
    for (;;) {
      const { rows } = await client.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM dbos.workflow_status WHERE workflow_uuid = ANY($1) AND status = 'SUCCESS'`,
        [ids],
      );
      const done = rows[0]?.n ?? 0;
      if (done === ids.length || Date.now() > deadline) return done;
      await sleep(50);
    }
  });
}
