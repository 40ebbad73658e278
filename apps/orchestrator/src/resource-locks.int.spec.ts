import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Admin } from '@platformatic/kafka';
import type { EventStore } from '@orchestron/event-store';
import { createPostgresEventStore } from '@orchestron/store-postgres';
import type { RemoteRuns } from '@orchestron/runtime';
import type { KafkaBus } from '@orchestron/bus-kafka';
import type { Worker } from '@orchestron/worker-sdk';
import type { GovernanceServiceHandle } from '@orchestron/governance';
import type { RunData } from '@orchestron/workflow-core';
import { dropOwnTopicsAndSchema, eventually } from './int-support.ts';
import type { OrchestratorHandle } from './start-orchestrator.ts';

// Resource locks on the production tier: two orchestrator instances in one consumer group on the real broker share
// the runs, so runs contending for a lock are as a rule owned by different instances, which both decide on the one
// lock table in PostgreSQL. A worker over Kafka counts how many steps touch an account at once. Topics, groups and
// the schema are this spec's own (the prefix is set before @orchestron/bus is loaded).
const RUN = randomUUID().slice(0, 8);
process.env['ORCHESTRON_TOPIC_PREFIX'] = `locks-${RUN}.`;
const { Topics } = await import('@orchestron/bus');
const { createKafkaBus } = await import('@orchestron/bus-kafka');
const { useKafkaBroker } = await import('@orchestron/bus-kafka/testing');
const { RemoteRuns: Remote, LOCK_TABLE_STREAM } = await import('@orchestron/runtime');
const { startOrchestrator } = await import('./start-orchestrator.ts');
const { startGovernanceService } = await import('@orchestron/governance');
const { createWorker } = await import('@orchestron/worker-sdk');

const BROKERS = (process.env['ORCHESTRON_KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(',');
const PG_URL = process.env['ORCHESTRON_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const SCHEMA = `orchestron_test_locks_${randomBytes(4).toString('hex')}`;
const TIMEOUT = 120_000;
const needBroker = useKafkaBroker(BROKERS);

const transfer = {
  id: 'transfer',
  version: 1,
  steps: { post: { worker: 'bank', locks: [{ name: 'account-${{ input.account }}' }] } },
};
/** `hold` keeps `first` until the test lets it go, while `transfer` takes `first` then `second`. */
const settle = {
  id: 'settle',
  version: 1,
  onFailure: 'fail',
  steps: {
    hold: { worker: 'bank', action: 'hold', locks: [{ name: '${{ input.first }}' }] },
    transfer: { worker: 'bank', locks: [{ name: '${{ input.first }}' }, { name: '${{ input.second }}' }] },
  },
};

let admin: Admin | undefined;
let store: EventStore | undefined;
const buses: KafkaBus[] = [];
const orchestrators: OrchestratorHandle[] = [];
let api: RemoteRuns | undefined;
let worker: Worker | undefined;
let governance: GovernanceServiceHandle | undefined;
const inside = new Map<string, number>();
let most = 0;
/** `hold` steps answer once their key (`first`) is let go. */
const letGo = new Set<string>();

beforeAll(async () => {
  needBroker();
  admin = new Admin({ clientId: `locks-${RUN}-admin`, bootstrapBrokers: BROKERS });
  store = await createPostgresEventStore({ url: PG_URL, schema: SCHEMA, poolSize: 6 });
  for (const name of ['a', 'b', 'edge'])
    buses.push(
      createKafkaBus({ brokers: BROKERS, clientId: `locks-${RUN}-${name}`, partitions: 4, shutdownTimeoutMs: 2_000 }),
    );
  const [first, second, edge] = buses as [KafkaBus, KafkaBus, KafkaBus];
  await edge.ensureTopics([
    Topics.workflowStarts,
    Topics.stepEvents,
    Topics.operatorCommands,
    Topics.deadLetters,
    Topics.commands('bank'),
    Topics.governanceRequests,
    Topics.governanceDecisions,
  ]);
  const policiesDir = join(import.meta.dirname, '../../../examples/policies');
  governance = await startGovernanceService({ bus: edge, policiesDir, instance: `gov-${RUN}`, watchPolicies: false });
  for (const [bus, name] of [
    [first, 'a'],
    [second, 'b'],
  ] as const)
    orchestrators.push(await startOrchestrator({ store, bus, instance: `locks-${RUN}-${name}` }));
  for (const def of [transfer, settle]) await orchestrators[0]?.engine.definitions.register(def, 'test');
  worker = createWorker({
    name: 'bank',
    bus: edge,
    group: Topics.group('bank'),
    concurrency: 16,
    handlers: {
      execute: async (ctx) => {
        const account = String((ctx.input as { account?: string }).account ?? '');
        inside.set(account, (inside.get(account) ?? 0) + 1);
        most = Math.max(most, inside.get(account) ?? 0);
        await new Promise((resolve) => setTimeout(resolve, 30));
        inside.set(account, (inside.get(account) ?? 1) - 1);
        return { step: ctx.stepId };
      },
      hold: async (ctx) => {
        const key = String((ctx.input as { first?: string }).first);
        await eventually(`${key} let go`, async () => letGo.has(key));
        return { held: key };
      },
    },
  });
  await worker.start();
  api = new Remote({ store, bus: edge, waitMs: 30_000 });
  await api.start();
}, TIMEOUT);

afterAll(async () => {
  for (const key of ['a', 'b']) letGo.add(key);
  await worker?.stop();
  await governance?.close();
  await api?.stop();
  for (const o of orchestrators) await o.close();
  for (const bus of buses) await bus.close();
  await store?.close();
  await dropOwnTopicsAndSchema({ admin, topicPrefix: Topics.prefix, pgUrl: PG_URL, schema: SCHEMA });
}, TIMEOUT);

async function start(definitionId: string, input: unknown, key: string): Promise<string> {
  const started = await (api as RemoteRuns).startRun({
    definitionId,
    idempotencyKey: `${key}-${RUN}`,
    input,
    actor: 'producer:test',
  });
  return 'run' in started ? started.run.runId : started.accepted.runId;
}

const runIn = (runId: string, what: string, ok: (run: RunData) => boolean) =>
  eventually(what, async () => {
    const run = await (api as RemoteRuns).getRun(runId);
    return run !== null && ok(run) ? run : undefined;
  });
const ended = (runId: string) =>
  runIn(runId, `run ${runId} to end`, (r) => ['completed', 'failed', 'compensated', 'cancelled'].includes(r.status));
const heldForLock = (runId: string, stepId: string) =>
  runIn(runId, `${stepId} of ${runId} held for its lock`, (r) => {
    const st = r.steps[stepId];
    return st?.status === 'running' && st.held?.reason === 'lock';
  });

describe('resource locks on the production tier (two orchestrators, Kafka and PostgreSQL)', () => {
  it(
    'lets one step at a time touch an account across instances, and releases every lock',
    async () => {
      const runs = await Promise.all(Array.from({ length: 8 }, (_, i) => start('transfer', { account: 'A' }, `t${i}`)));
      for (const runId of runs) expect((await ended(runId)).status).toBe('completed');
      expect(most).toBe(1);
      await eventually('every lock released', async () => {
        const table = await (store as EventStore).readStream(LOCK_TABLE_STREAM);
        const count = (type: string) => table.filter((e) => e.type === type).length;
        return count('LocksRequested') === 8 && count('LocksReleased') === 8;
      });
    },
    TIMEOUT,
  );

  it(
    'breaks a cycle of waits between two runs by failing the youngest waiter with LOCK.DEADLOCK',
    async () => {
      const r1 = await start('settle', { first: 'a', second: 'b' }, 's1');
      await heldForLock(r1, 'transfer');
      const r2 = await start('settle', { first: 'b', second: 'a' }, 's2');
      await heldForLock(r2, 'transfer');
      letGo.add('a');
      await runIn(r1, 'r1 hold done', (r) => r.steps.hold?.status === 'completed');
      letGo.add('b');
      const second = await ended(r2);
      expect(second.steps.transfer).toMatchObject({ status: 'failed', error: { code: 'LOCK.DEADLOCK' } });
      const message = second.steps.transfer?.status === 'failed' ? second.steps.transfer.error.message : '';
      expect(message).toContain(`run ${r2} step "transfer" waits for lock "a", held by run ${r1} step "transfer"`);
      expect(message).toContain(`run ${r2} step "transfer" is the youngest waiter in the cycle and fails`);
      expect((await ended(r1)).status).toBe('completed');
    },
    TIMEOUT,
  );
});
