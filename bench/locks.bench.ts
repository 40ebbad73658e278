/**
 * `npm run bench:locks`: what resource locks cost (docs/adr/0037-resource-locks.md).
 *
 * 1. The lock table alone on PostgreSQL: `--instances` LockTableStores (as many orchestrators) over one store, each
 *    taking and releasing `--pairs` locks of its own (no contention on names), `--concurrency` at a time. All
 *    decisions go to the one stream `orchestron-locks`, so instances race for its revision: printed are decisions
 *    per second and how many appends lost a race and were decided again.
 * 2. An embedded engine (SQLite store, in-process bus), `--runs` one-step runs started at once, each step with an
 *    uncontended lock of its own, against the same runs without locks: runs per second, both ways.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createInMemoryBus } from '@orchestron/bus';
import { ExpectedVersionConflictError } from '@orchestron/event-store';
import type { EventStore } from '@orchestron/event-store';
import { Engine, LockTableStore, silentLogger } from '@orchestron/runtime';
import { createPostgresEventStore } from '@orchestron/store-postgres';
import { createSqliteEventStore } from '@orchestron/store-sqlite';
import { ownerKey, releaseLocks, requestLocks } from '@orchestron/workflow-core';
import { createWorker } from '@orchestron/worker-sdk';

const { values } = parseArgs({
  options: {
    instances: { type: 'string', default: '1,2' },
    pairs: { type: 'string', default: '500' },
    concurrency: { type: 'string', default: '8' },
    runs: { type: 'string', default: '300' },
    'pg-url': { type: 'string', default: process.env.ORCHESTRON_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test' },
  },
});
const pairs = Number(values.pairs);
const concurrency = Number(values.concurrency);

/** Counts the appends that lost the race for the stream's revision (and were decided again). */
function counting(store: EventStore, conflicts: { n: number }): EventStore {
  return new Proxy(store, {
    get(target, key, receiver) {
      if (key !== 'append') return Reflect.get(target, key, receiver) as unknown;
      return async (...args: Parameters<EventStore['append']>) => {
        try {
          return await target.append(...args);
        } catch (error) {
          if (error instanceof ExpectedVersionConflictError) conflicts.n++;
          throw error;
        }
      };
    },
  });
}

async function lockTable(instances: number): Promise<void> {
  const schema = `bench_locks_${Date.now()}_${instances}`;
  const store = await createPostgresEventStore({ url: values['pg-url'], schema, poolSize: 8 });
  const conflicts = { n: 0 };
  const tables = Array.from({ length: instances }, () => new LockTableStore(counting(store, conflicts)));
  const started = performance.now();
  await Promise.all(
    tables.map(async (table, i) => {
      let next = 0;
      const lane = async (): Promise<void> => {
        for (let n = next++; n < pairs; n = next++) {
          const owner = { tenant: 'bench', runId: `i${i}-r${n}`, stepId: 's', phase: 'execute' as const };
          const claims = [{ name: `account-${i}-${n}`, mode: 'exclusive' as const }];
          await table.decide((s) => requestLocks(s, owner, 1, claims, Date.now()));
          await table.decide((s) => releaseLocks(s, ownerKey(owner), Date.now()));
        }
      };
      await Promise.all(Array.from({ length: concurrency }, lane));
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const decisions = instances * pairs * 2;
  console.log(
    `lock table on PostgreSQL, ${instances} instance(s): ${decisions} decisions in ${seconds.toFixed(2)} s = ` +
      `${(decisions / seconds).toFixed(0)} decisions/s; ${conflicts.n} appends lost a race and were decided again`,
  );
  await store.close();
}

async function engineRuns(withLocks: boolean): Promise<number> {
  const store = createSqliteEventStore({ path: join(mkdtempSync(join(tmpdir(), 'bench-locks-')), 'events.sqlite') });
  const bus = createInMemoryBus();
  const engine = new Engine({ store, bus, logger: silentLogger });
  const worker = createWorker({ name: 'w', bus, concurrency: 64, handlers: { execute: async () => ({}) } });
  await worker.start();
  await engine.start();
  const step = withLocks ? { worker: 'w', locks: [{ name: 'account-${{ input.n }}' }] } : { worker: 'w' };
  await engine.definitions.register({ id: 'one', version: 1, steps: { only: step } }, 'bench');
  const runs = Number(values.runs);
  const started = performance.now();
  const ids: string[] = [];
  for (let n = 0; n < runs; n++) {
    const answer = await engine.startRun({ definitionId: 'one', input: { n }, actor: 'bench' });
    if ('run' in answer) ids.push(answer.run.runId);
  }
  for (const id of ids) await engine.awaitRun(id, { timeoutMs: 60_000 });
  const seconds = (performance.now() - started) / 1000;
  await worker.stop();
  await engine.stop();
  await store.close();
  return runs / seconds;
}

for (const n of values.instances.split(',').map(Number)) await lockTable(n);
const plain = await engineRuns(false);
const locked = await engineRuns(true);
console.log(
  `embedded engine (SQLite), ${values.runs} one-step runs: ${plain.toFixed(0)} runs/s without locks, ` +
    `${locked.toFixed(0)} runs/s with an uncontended lock per step (${(locked / plain).toFixed(2)}x)`,
);
