/**
 * `node libs/store-postgres/src/testing/append-throughput.bench.ts [--seconds N]`: appends/s against the
 * PostgreSQL at ORCHESTRON_PG_URL. Each writer appends one event per call to its own stream, guarded by the
 * exact revision it expects, and waits for the commit before the next. Writers either share one store (one
 * process: its appends are batched) or each have their own store and pool (as separate processes would: only
 * the global position lock orders them).
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { EventStore } from '@orchestron/event-store';
import { createPostgresEventStore } from '../index.ts';
import { dropSchemas, endAdmin, freshSchema, POSTGRES_URL } from './postgres-test-database.ts';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '5' } } });
const seconds = Number(values.seconds);
const PAYLOAD = { step: 'charge-card', attempt: 1, input: { amount: 1250, currency: 'EUR', customer: 'c-42' } };

async function scenario(label: string, writers: number, storesUsed: number): Promise<void> {
  const schema = await freshSchema('orchestron_bench');
  const stores: EventStore[] = [];
  for (let index = 0; index < storesUsed; index += 1)
    stores.push(await createPostgresEventStore({ url: POSTGRES_URL, schema }));
  const deadline = performance.now() + seconds * 1000;
  let appended = 0;
  const write = async (writer: number): Promise<void> => {
    const store = stores[writer % storesUsed] as EventStore;
    for (let revision = 0; performance.now() < deadline; revision += 1) {
      await store.append(
        `bench-${writer}`,
        [{ type: 'StepCompleted', data: PAYLOAD, metadata: { now: new Date().toISOString() } }],
        {
          expectedRevision: revision === 0 ? 'no_stream' : revision - 1,
        },
      );
      appended += 1;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: writers }, (_, writer) => write(writer)));
  const elapsed = (performance.now() - started) / 1000;
  const total = (await stores[0]?.readAll())?.length;
  await Promise.all(stores.map((store) => store.close()));
  process.stdout.write(
    `${label.padEnd(44)} ${String(Math.round(appended / elapsed)).padStart(7)} appends/s  (${appended} in ${elapsed.toFixed(1)} s, ${total} stored)\n`,
  );
}

try {
  await scenario('1 writer', 1, 1);
  await scenario('16 writers sharing one store (one process)', 16, 1);
  await scenario('16 writers, a store and pool each', 16, 16);
} finally {
  await dropSchemas();
  await endAdmin();
}
