import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { Admin } from '@platformatic/kafka';
import type { EventStore } from '@orchestron/event-store';
import { createPostgresEventStore } from '@orchestron/store-postgres';
import type { RemoteRuns, ScheduleView } from '@orchestron/runtime';
import type { KafkaBus } from '@orchestron/bus-kafka';
import { dropOwnTopicsAndSchema, eventually } from './int-support.ts';
import type { OrchestratorHandle } from './start-orchestrator.ts';

// Schedules on the production tier: two orchestrators in one consumer group on the real broker, PostgreSQL for the
// store, the API's RemoteRuns creating the schedules. Each schedule is fired by the instance that owns the partition
// of its key, never by both; when one instance leaves, the other takes its schedules over, and no fire is started
// twice. Topics and groups get a prefix of their own, the store a schema of its own.
const RUN = randomUUID().slice(0, 8);
process.env['ORCHESTRON_TOPIC_PREFIX'] = `sched-${RUN}.`;
const { Topics } = await import('@orchestron/bus');
const { createKafkaBus } = await import('@orchestron/bus-kafka');
const { useKafkaBroker } = await import('@orchestron/bus-kafka/testing');
const { RemoteRuns: Remote, runIdForKey, scheduleOwnerKey } = await import('@orchestron/runtime');
const { startOrchestrator } = await import('./start-orchestrator.ts');

const BROKERS = (process.env['ORCHESTRON_KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(',');
const PG_URL = process.env['ORCHESTRON_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const SCHEMA = `sched_test_${randomBytes(4).toString('hex')}`;
const TIMEOUT = 120_000;
const needBroker = useKafkaBroker(BROKERS);
/** Two schedules on each of the 3 partitions (chosen in beforeAll, by the partition of their key). */
const IDS: string[] = [];
/** Runs that stay open (an approval), so their starts are all there is to count. */
const gated = { id: 'gated', version: 1, steps: { sign: { type: 'approval', assignees: ['role:operator'] } } };

let admin: Admin | undefined;
let store: EventStore | undefined;
const buses: KafkaBus[] = [];
const orchestrators: OrchestratorHandle[] = [];
let api: RemoteRuns | undefined;

beforeAll(async () => {
  needBroker();
  admin = new Admin({ clientId: `sched-${RUN}-admin`, bootstrapBrokers: BROKERS });
  store = await createPostgresEventStore({ url: PG_URL, schema: SCHEMA, poolSize: 6 });
  for (const name of ['one', 'two']) {
    const bus = createKafkaBus({
      brokers: BROKERS,
      clientId: `sched-${RUN}-${name}`,
      partitions: 3,
      shutdownTimeoutMs: 2_000,
    });
    buses.push(bus);
    await bus.ensureTopics([Topics.workflowStarts, Topics.stepEvents, Topics.operatorCommands, Topics.deadLetters]);
    orchestrators.push(await startOrchestrator({ store, bus, instance: `sched-${RUN}-${name}` }));
  }
  await orchestrators[0]?.engine.definitions.register(gated, 'test');
  const perPartition = new Map<number, number>();
  for (let i = 0; IDS.length < 6; i++) {
    const p = (buses[0] as KafkaBus).partitionOf(
      Topics.stepEvents,
      scheduleOwnerKey({ tenant: 'default', id: `s-${i}` }),
    );
    if ((perPartition.get(p) ?? 0) >= 2) continue;
    perPartition.set(p, (perPartition.get(p) ?? 0) + 1);
    IDS.push(`s-${i}`);
  }
  api = new Remote({ store, bus: buses[0] as KafkaBus, waitMs: 30_000 });
  await api.start();
}, TIMEOUT);

afterAll(async () => {
  await api?.stop();
  for (const o of orchestrators) await o.close();
  for (const bus of buses) await bus.close();
  await store?.close();
  await dropOwnTopicsAndSchema({ admin, topicPrefix: Topics.prefix, pgUrl: PG_URL, schema: SCHEMA });
}, TIMEOUT);

/** Which instance wrote each schedule's runs (RunStarted's metadata.instance), and every fire key started. */
async function starts(): Promise<{ by: Map<string, Set<string>>; keys: string[] }> {
  const by = new Map<string, Set<string>>();
  const keys: string[] = [];
  for (const event of await (store as EventStore).readAll()) {
    if (event.type !== 'RunStarted') continue;
    const key = (event.data as { idempotencyKey?: string }).idempotencyKey ?? '';
    const id = /^schedule:([^:]+):/.exec(key)?.[1];
    if (!id) continue;
    keys.push(key);
    by.set(id, (by.get(id) ?? new Set()).add(String(event.metadata['instance'])));
  }
  return { by, keys };
}

const views = async (): Promise<ScheduleView[]> => (api as RemoteRuns).schedules.list('default');

it(
  'each schedule is fired by the one instance that owns its partition; after one leaves, the other fires them all, none twice',
  async () => {
    // Both members hold partitions before the schedules exist, so ownership is split between them.
    await eventually('both orchestrators own partitions', async () => {
      const owned = orchestrators.map((o) => IDS.filter((id) => ownsSchedule(o, id)).length);
      return (
        owned.every((n) => n > 0) && IDS.every((id) => orchestrators.filter((o) => ownsSchedule(o, id)).length === 1)
      );
    });
    for (const id of IDS)
      await (api as RemoteRuns).schedules.create({
        tenant: 'default',
        id,
        definitionId: 'gated',
        cron: '* * * * * *',
        timezone: 'UTC',
        overlap: 'allow',
        catchUp: 'all',
        maxCatchUp: 20,
        actor: 'operator:test',
      });
    await eventually('every schedule fired 3 times', async () => (await views()).every((v) => v.fired >= 3));
    const split = await starts();
    for (const id of IDS) expect([id, split.by.get(id)?.size]).toEqual([id, 1]);
    expect(new Set([...split.by.values()].flatMap((s) => [...s])).size).toBe(2);

    const leaving = orchestrators.pop() as OrchestratorHandle;
    await leaving.close();
    await eventually('the other instance owns every schedule', async () =>
      IDS.every((id) => ownsSchedule(orchestrators[0] as OrchestratorHandle, id)),
    );
    const atHandOver = new Map((await views()).map((v) => [v.id, v.fired]));
    await eventually('every schedule fired twice more', async () =>
      (await views()).every((v) => v.fired >= (atHandOver.get(v.id) ?? 0) + 2),
    );
    for (const id of IDS) await (api as RemoteRuns).schedules.pause({ tenant: 'default', id }, 'operator:test');
    const final = await views();
    await eventually('every fire recorded has its run', async () => {
      const { keys } = await starts();
      return final.every((v) => keys.filter((k) => k.startsWith(`schedule:${v.id}:`)).length >= v.fired);
    });
    const { keys } = await starts();
    expect(new Set(keys).size).toBe(keys.length);
    for (const v of final) {
      const mine = keys.filter((k) => k.startsWith(`schedule:${v.id}:`));
      expect([v.id, mine.length]).toEqual([v.id, v.fired]);
      expect(runIdForKey('gated', v.lastFire?.idempotencyKey as string)).toBe(v.lastFire?.runId);
    }
  },
  TIMEOUT,
);

function ownsSchedule(o: OrchestratorHandle, id: string): boolean {
  return o.engine.owns(scheduleOwnerKey({ tenant: 'default', id }));
}
