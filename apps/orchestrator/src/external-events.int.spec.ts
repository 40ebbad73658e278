import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Admin } from '@platformatic/kafka';
import type { EventStore } from '@orchestron/event-store';
import { createPostgresEventStore } from '@orchestron/store-postgres';
import type { RemoteRuns } from '@orchestron/runtime';
import type { DeliveredMessage } from '@orchestron/bus';
import type { KafkaBus } from '@orchestron/bus-kafka';
import { dropOwnTopicsAndSchema, eventually } from './int-support.ts';
import type { OrchestratorHandle } from './start-orchestrator.ts';

// The production tier end to end but for processes: an orchestrator consuming orchestron.external.events from the
// real broker, the API's RemoteRuns publishing there, PostgreSQL for the store. Topics and groups get a prefix of
// their own (set before @orchestron/bus is loaded), and the store a schema of its own.
const RUN = randomUUID().slice(0, 8);
process.env['ORCHESTRON_TOPIC_PREFIX'] = `events-${RUN}.`;
const { Topics } = await import('@orchestron/bus');
const { createKafkaBus } = await import('@orchestron/bus-kafka');
const { useKafkaBroker } = await import('@orchestron/bus-kafka/testing');
const { RemoteRuns: Remote } = await import('@orchestron/runtime');
const { startOrchestrator } = await import('./start-orchestrator.ts');

const BROKERS = (process.env['ORCHESTRON_KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(',');
const PG_URL = process.env['ORCHESTRON_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const SCHEMA = `orchestron_test_events_${randomBytes(4).toString('hex')}`;
const TIMEOUT = 90_000;
const needBroker = useKafkaBroker(BROKERS);

const invoice = {
  id: 'invoice',
  version: 1,
  steps: { confirmed: { type: 'event', event: 'bank.confirmed', match: '${{ input.invoiceId }}', timeout: '10m' } },
};

let admin: Admin | undefined;
let store: EventStore | undefined;
let bus: KafkaBus | undefined;
let orchestrator: OrchestratorHandle | undefined;
let api: RemoteRuns | undefined;
const letters: DeliveredMessage[] = [];

beforeAll(async () => {
  needBroker();
  admin = new Admin({ clientId: `events-${RUN}-admin`, bootstrapBrokers: BROKERS });
  store = await createPostgresEventStore({ url: PG_URL, schema: SCHEMA, poolSize: 4 });
  bus = createKafkaBus({ brokers: BROKERS, clientId: `events-${RUN}`, partitions: 3, shutdownTimeoutMs: 2_000 });
  await bus.ensureTopics([Topics.externalEvents, Topics.deadLetters, Topics.workflowStarts, Topics.operatorCommands]);
  await bus.subscribe({ topics: [Topics.deadLetters], group: Topics.group('dlq-watch') }, async (message) => {
    letters.push(message);
  });
  orchestrator = await startOrchestrator({ store, bus, instance: `events-${RUN}`, eventBufferMs: 60_000 });
  await orchestrator.engine.definitions.register(invoice, 'test');
  api = new Remote({ store, bus, waitMs: 30_000 });
  await api.start();
}, TIMEOUT);

afterAll(async () => {
  await api?.stop();
  await orchestrator?.close();
  await bus?.close();
  await store?.close();
  await dropOwnTopicsAndSchema({ admin, topicPrefix: Topics.prefix, pgUrl: PG_URL, schema: SCHEMA });
}, TIMEOUT);

async function waitingRun(invoiceId: string): Promise<string> {
  const engine = (orchestrator as OrchestratorHandle).engine;
  const { run } = (await engine.startRun({ definitionId: 'invoice', input: { invoiceId }, actor: 'test' })) as {
    run: { runId: string };
  };
  await eventually('the wait registered', async () => (await engine.history(run.runId)).length > 2);
  await new Promise((resolve) => setTimeout(resolve, 200));
  return run.runId;
}

const send = (key: string, id: string, payload: unknown = { amount: 1 }) =>
  (api as RemoteRuns).sendEvent({
    tenant: 'default',
    name: 'bank.confirmed',
    key,
    id,
    payload,
    actor: 'producer:bank',
  });

describe('external events on the production tier (Kafka and PostgreSQL)', () => {
  it(
    'delivers an event sent through the API over orchestron.external.events, and answers a duplicate',
    async () => {
      const runId = await waitingRun('inv-1');
      expect(await send('inv-1', 'e-1', { amount: 120 })).toEqual({
        status: 'delivered',
        eventId: 'e-1',
        deliveredTo: [{ runId, stepId: 'confirmed' }],
      });
      const run = await eventually('the run completed', async () => {
        const r = await (api as RemoteRuns).getRun(runId);
        return r?.status === 'completed' ? r : undefined;
      });
      expect(run.steps.confirmed).toMatchObject({ output: { amount: 120 } });
      expect(await send('inv-1', 'e-1')).toMatchObject({ status: 'duplicate', deliveredTo: [{ runId }] });
    },
    TIMEOUT,
  );

  it(
    'buffers an early event in PostgreSQL and hands it to the run that waits for it later',
    async () => {
      expect(await send('inv-2', 'early', { amount: 2 })).toMatchObject({ status: 'buffered' });
      const engine = (orchestrator as OrchestratorHandle).engine;
      const { run } = (await engine.startRun({
        definitionId: 'invoice',
        input: { invoiceId: 'inv-2' },
        actor: 'test',
      })) as { run: { runId: string } };
      const done = await eventually('the run completed', async () => {
        const r = await engine.getRun(run.runId);
        return r?.status === 'completed' ? r : undefined;
      });
      expect(done.steps.confirmed).toMatchObject({ output: { amount: 2 } });
    },
    TIMEOUT,
  );

  it(
    'takes events published straight to the topic, and dead-letters poison messages with the reason',
    async () => {
      const runId = await waitingRun('inv-3');
      await (bus as KafkaBus).publish(Topics.externalEvents, [
        { key: 'poison-1', value: { type: 'external.event', name: 'bank.confirmed', id: 'p1' } },
        {
          key: 'poison-2',
          value: { type: 'external.event', name: 'bank.confirmed', key: 'inv-3', id: 'p2', tenant: 'Not A Tenant' },
        },
        {
          key: 'default/bank.confirmed/inv-3',
          value: { type: 'external.event', name: 'bank.confirmed', key: 'inv-3', id: 'k-1', payload: { amount: 3 } },
        },
      ]);
      const run = await eventually('the run completed', async () => {
        const r = await (orchestrator as OrchestratorHandle).engine.getRun(runId);
        return r?.status === 'completed' ? r : undefined;
      });
      expect(run.steps.confirmed).toMatchObject({ output: { amount: 3 } });
      await eventually('two dead letters', async () => letters.length >= 2);
      const reasons = letters.map((l) => (l.value as { reason: string }).reason).sort();
      expect(reasons[0]).toMatch(/external\.event message.*key/);
      expect(reasons[1]).toMatch(/external\.event message.*tenant/);
    },
    TIMEOUT,
  );
});
