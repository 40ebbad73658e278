import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Admin } from '@platformatic/kafka';
import type { EventStore } from '@orchestron/event-store';
import { createPostgresEventStore } from '@orchestron/store-postgres';
import type { RemoteRuns } from '@orchestron/runtime';
import type { KafkaBus } from '@orchestron/bus-kafka';
import type { RunData } from '@orchestron/workflow-core';
import { dropOwnTopicsAndSchema, eventually } from './int-support.ts';
import type { OrchestratorHandle } from './start-orchestrator.ts';

// Workflow steps on the production tier: two orchestrator instances in one consumer group on the real broker share
// the runs, so a parent and its child are as a rule owned by different instances; starts and operator commands go
// through the API (RemoteRuns) over Kafka, and PostgreSQL is the store. Topics, groups and the schema are this
// spec's own (the prefix is set before @orchestron/bus is loaded).
const RUN = randomUUID().slice(0, 8);
process.env['ORCHESTRON_TOPIC_PREFIX'] = `child-${RUN}.`;
const { Topics } = await import('@orchestron/bus');
const { createKafkaBus } = await import('@orchestron/bus-kafka');
const { useKafkaBroker } = await import('@orchestron/bus-kafka/testing');
const { RemoteRuns: Remote, toRunView } = await import('@orchestron/runtime');
const { childRunIdOf } = await import('@orchestron/workflow-core');
const { startOrchestrator } = await import('./start-orchestrator.ts');

const BROKERS = (process.env['ORCHESTRON_KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(',');
const PG_URL = process.env['ORCHESTRON_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const SCHEMA = `orchestron_test_child_${randomBytes(4).toString('hex')}`;
const TIMEOUT = 120_000;
const needBroker = useKafkaBroker(BROKERS);

// Gates only: no task step, so no governance service is needed for what this spec is about.
const review = { id: 'review', version: 1, steps: { sign: { type: 'approval' } } };
const parent = {
  id: 'contract',
  version: 1,
  steps: {
    reviewed: { type: 'workflow', workflow: { id: 'review', version: 1 }, input: { doc: '${{ input.doc }}' } },
    filed: { type: 'approval', needs: ['reviewed'], when: '${{ steps.reviewed.output.sign.approved }}' },
  },
};

let admin: Admin | undefined;
let store: EventStore | undefined;
const buses: KafkaBus[] = [];
const orchestrators: OrchestratorHandle[] = [];
let api: RemoteRuns | undefined;

beforeAll(async () => {
  needBroker();
  admin = new Admin({ clientId: `child-${RUN}-admin`, bootstrapBrokers: BROKERS });
  store = await createPostgresEventStore({ url: PG_URL, schema: SCHEMA, poolSize: 6 });
  for (const name of ['a', 'b', 'api'])
    buses.push(
      createKafkaBus({ brokers: BROKERS, clientId: `child-${RUN}-${name}`, partitions: 4, shutdownTimeoutMs: 2_000 }),
    );
  const [first, second, edge] = buses as [KafkaBus, KafkaBus, KafkaBus];
  await first.ensureTopics([Topics.workflowStarts, Topics.stepEvents, Topics.operatorCommands, Topics.deadLetters]);
  for (const [bus, name] of [
    [first, 'a'],
    [second, 'b'],
  ] as const)
    orchestrators.push(await startOrchestrator({ store, bus, instance: `child-${RUN}-${name}` }));
  for (const def of [review, parent]) await orchestrators[0]?.engine.definitions.register(def, 'test');
  await orchestrators[0]?.engine.definitions.register(parent, 'test', 'acme');
  api = new Remote({ store, bus: edge, waitMs: 30_000 });
  await api.start();
}, TIMEOUT);

afterAll(async () => {
  await api?.stop();
  for (const o of orchestrators) await o.close();
  for (const bus of buses) await bus.close();
  await store?.close();
  await dropOwnTopicsAndSchema({ admin, topicPrefix: Topics.prefix, pgUrl: PG_URL, schema: SCHEMA });
}, TIMEOUT);

async function start(key: string, tenant = 'default'): Promise<string> {
  const started = await (api as RemoteRuns).startRun({
    definitionId: 'contract',
    idempotencyKey: `${key}-${RUN}`,
    input: { doc: key },
    actor: 'producer:test',
    tenant,
  });
  return 'run' in started ? started.run.runId : started.accepted.runId;
}

const runIn = (runId: string, what: string, ok: (run: RunData) => boolean) =>
  eventually(what, async () => {
    const run = await (api as RemoteRuns).getRun(runId);
    return run !== null && ok(run) ? run : undefined;
  });

describe('workflow steps on the production tier (two orchestrators, Kafka and PostgreSQL)', () => {
  it(
    "completes the parent with its child's output, across instances, and shows the link both ways",
    async () => {
      const runId = await start('doc-1');
      const childRunId = childRunIdOf(runId, 'reviewed', 1);
      const child = await runIn(
        childRunId,
        'the child at its gate',
        (r) => r.steps.sign?.status === 'waiting_approval',
      );
      expect(child.parent).toMatchObject({ runId, stepId: 'reviewed', depth: 1 });
      expect(child.input).toEqual({ doc: 'doc-1' });
      await (api as RemoteRuns).execute(childRunId, { type: 'Approve', data: { stepId: 'sign' } }, 'alice');
      const done = await runIn(
        runId,
        'the parent at its next gate',
        (r) => r.steps.filed?.status === 'waiting_approval',
      );
      expect(done.steps.reviewed).toMatchObject({
        status: 'completed',
        output: { sign: { approved: true, by: 'alice' } },
      });
      const view = toRunView(done).steps.find((s) => s.id === 'reviewed');
      expect(view).toMatchObject({ childRunId, workflow: { id: 'review', version: 1 } });
      expect(toRunView((await (api as RemoteRuns).getRun(childRunId)) as RunData).parent).toEqual({
        runId,
        stepId: 'reviewed',
        depth: 1,
      });
      // One child for the step, whatever the instances did.
      const children = (await (api as RemoteRuns).listRuns({ definitionId: 'review' })).filter(
        (r) => r.id === childRunId,
      );
      expect(children).toHaveLength(1);
    },
    TIMEOUT,
  );

  it(
    'cancels the child when an operator cancels the parent through the API',
    async () => {
      const runId = await start('doc-2');
      const childRunId = childRunIdOf(runId, 'reviewed', 1);
      await runIn(childRunId, 'the child at its gate', (r) => r.steps.sign?.status === 'waiting_approval');
      await (api as RemoteRuns).execute(runId, { type: 'Cancel', data: { reason: 'withdrawn' } }, 'alice');
      await runIn(childRunId, 'the child cancelled', (r) => r.status === 'cancelled');
      const history = await (api as RemoteRuns).history(childRunId);
      expect(history.find((e) => e.type === 'RunCancelled')?.data).toMatchObject({ by: 'system:parent' });
      const parentHistory = (await (api as RemoteRuns).history(runId)).map((e) => e.type);
      expect(parentHistory).toEqual(expect.arrayContaining(['ChildRunRequested', 'RunCancelled', 'ChildRunClosed']));
    },
    TIMEOUT,
  );

  it(
    'compensates the completed child when the parent compensates (a rejected gate after it)',
    async () => {
      const runId = await start('doc-4');
      const childRunId = childRunIdOf(runId, 'reviewed', 1);
      await runIn(childRunId, 'the child at its gate', (r) => r.steps.sign?.status === 'waiting_approval');
      await (api as RemoteRuns).execute(childRunId, { type: 'Approve', data: { stepId: 'sign' } }, 'alice');
      await runIn(runId, 'the parent at its gate', (r) => r.steps.filed?.status === 'waiting_approval');
      await (api as RemoteRuns).execute(runId, { type: 'Reject', data: { stepId: 'filed', reason: 'no' } }, 'alice');
      const run = await runIn(runId, 'the parent compensated', (r) => r.status === 'compensated');
      expect(run.compensations.reviewed?.status).toBe('completed');
      const child = await runIn(childRunId, 'the child compensated', (r) => r.status === 'compensated');
      const started = (await (api as RemoteRuns).history(childRunId)).find((e) => e.type === 'CompensationStarted');
      expect(started?.data).toMatchObject({ by: 'system:parent' });
      expect(child.steps.sign?.status).toBe('completed');
    },
    TIMEOUT,
  );

  it(
    "fails the step clearly when the child's definition is not in the parent's tenant",
    async () => {
      const runId = await start('doc-3', 'acme');
      const run = await runIn(runId, 'the run failed', (r) => r.status === 'failed' || r.status === 'compensated');
      expect(run.steps.reviewed).toMatchObject({
        status: 'failed',
        error: { code: 'CHILD.NOT_STARTED', details: { cause: 'DEFINITION.NOT_FOUND' } },
      });
      expect(await (api as RemoteRuns).getRun(childRunIdOf(runId, 'reviewed', 1))).toBeNull();
    },
    TIMEOUT,
  );
});
