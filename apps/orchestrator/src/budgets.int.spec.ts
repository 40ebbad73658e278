import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Admin } from '@platformatic/kafka';
import type { EventStore } from '@orchestron/event-store';
import { createPostgresEventStore } from '@orchestron/store-postgres';
import type { RemoteRuns } from '@orchestron/runtime';
import type { DeliveredMessage } from '@orchestron/bus';
import type { KafkaBus } from '@orchestron/bus-kafka';
import type { Worker } from '@orchestron/worker-sdk';
import type { GovernanceServiceHandle } from '@orchestron/governance';
import { dropOwnTopicsAndSchema, eventually } from './int-support.ts';
import type { OrchestratorHandle } from './start-orchestrator.ts';

// Budgets on the production tier: a start with a budget through the API's outbox and orchestron.workflow.starts,
// usage reported by a worker over orchestron.step.events, the raise as an operator command over Kafka, PostgreSQL
// for the store. Topics and groups get a prefix of their own (set before @orchestron/bus is loaded).
const RUN = randomUUID().slice(0, 8);
process.env['ORCHESTRON_TOPIC_PREFIX'] = `budgets-${RUN}.`;
const { Topics } = await import('@orchestron/bus');
const { createKafkaBus } = await import('@orchestron/bus-kafka');
const { useKafkaBroker } = await import('@orchestron/bus-kafka/testing');
const { RemoteRuns: Remote } = await import('@orchestron/runtime');
const { startOrchestrator } = await import('./start-orchestrator.ts');
const { startGovernanceService } = await import('@orchestron/governance');
const { createWorker } = await import('@orchestron/worker-sdk');
const { llmHandlers, standInModel } = await import('@orchestron/example-workers');

const BROKERS = (process.env['ORCHESTRON_KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(',');
const PG_URL = process.env['ORCHESTRON_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const SCHEMA = `orchestron_test_budgets_${randomBytes(4).toString('hex')}`;
const TIMEOUT = 90_000;
const needBroker = useKafkaBroker(BROKERS);

const agent = {
  id: 'agent',
  version: 1,
  onFailure: 'escalate',
  steps: {
    classify: { worker: 'llm', action: 'classify', input: { text: '${{ input.text }}' } },
    draft: { worker: 'llm', action: 'draft', needs: ['classify'], input: { text: '${{ input.text }}' } },
  },
};

let admin: Admin | undefined;
let store: EventStore | undefined;
let bus: KafkaBus | undefined;
let orchestrator: OrchestratorHandle | undefined;
let api: RemoteRuns | undefined;
let worker: Worker | undefined;
let governance: GovernanceServiceHandle | undefined;
const letters: DeliveredMessage[] = [];

beforeAll(async () => {
  needBroker();
  admin = new Admin({ clientId: `budgets-${RUN}-admin`, bootstrapBrokers: BROKERS });
  store = await createPostgresEventStore({ url: PG_URL, schema: SCHEMA, poolSize: 4 });
  bus = createKafkaBus({ brokers: BROKERS, clientId: `budgets-${RUN}`, partitions: 3, shutdownTimeoutMs: 2_000 });
  await bus.ensureTopics([
    Topics.workflowStarts,
    Topics.stepEvents,
    Topics.operatorCommands,
    Topics.deadLetters,
    Topics.commands('llm'),
    Topics.governanceRequests,
    Topics.governanceDecisions,
  ]);
  // Governance rules on every step of the production tier: the example policies allow these.
  const policiesDir = join(import.meta.dirname, '../../../examples/policies');
  governance = await startGovernanceService({ bus, policiesDir, instance: `gov-${RUN}`, watchPolicies: false });
  await bus.subscribe({ topics: [Topics.deadLetters], group: Topics.group('dlq-watch') }, async (message) => {
    letters.push(message);
  });
  orchestrator = await startOrchestrator({ store, bus, instance: `budgets-${RUN}` });
  await orchestrator.engine.definitions.register(agent, 'test');
  worker = createWorker({ name: 'llm', bus, handlers: llmHandlers(standInModel()), group: Topics.group('llm') });
  await worker.start();
  api = new Remote({ store, bus, waitMs: 30_000 });
  await api.start();
}, TIMEOUT);

afterAll(async () => {
  await worker?.stop();
  await governance?.close();
  await api?.stop();
  await orchestrator?.close();
  await bus?.close();
  await store?.close();
  await dropOwnTopicsAndSchema({ admin, topicPrefix: Topics.prefix, pgUrl: PG_URL, schema: SCHEMA });
}, TIMEOUT);

describe('budgets on the production tier (Kafka and PostgreSQL)', () => {
  it(
    'stops a run started with a budget when a report over Kafka passes it, and goes on after a raise',
    async () => {
      const remote = api as RemoteRuns;
      const started = await remote.startRun({
        definitionId: 'agent',
        idempotencyKey: `b-${RUN}`,
        input: { text: 'The invoice total is wrong. '.repeat(20) },
        budget: { tokens: 150 },
        actor: 'producer:test',
      });
      const runId = 'run' in started ? started.run.runId : started.accepted.runId;
      const stopped = await eventually('the run stopped at its budget', async () => {
        const r = await remote.getRun(runId);
        return r?.status === 'needs_operator' ? r : undefined;
      });
      expect(stopped.attention?.code).toBe('BUDGET.EXCEEDED');
      expect(stopped.budget).toEqual({ tokens: 150 });
      expect(stopped.stepUsage['classify']?.inputTokens).toBeGreaterThan(100);
      expect(stopped.steps['draft']?.status).toBe('pending');
      await remote.execute(runId, { type: 'RaiseBudget', data: { budget: { tokens: 10_000 }, reason: 'ok' } }, 'ops');
      const done = await eventually('the run completed', async () => {
        const r = await remote.getRun(runId);
        return r?.status === 'completed' ? r : undefined;
      });
      expect(done.usage.inputTokens).toBeGreaterThan(stopped.usage.inputTokens);
    },
    TIMEOUT,
  );

  it(
    'dead-letters a step report whose usage no call could have had, with the reason',
    async () => {
      await (bus as KafkaBus).publish(Topics.stepEvents, [
        {
          key: 'run-x',
          value: {
            type: 'step.completed',
            runId: 'run-x',
            stepId: 'classify',
            attempt: 1,
            phase: 'execute',
            usage: { inputTokens: -3, outputTokens: 1 },
          },
        },
      ]);
      const letter = await eventually('a dead letter', async () =>
        letters.find((l) => String((l.value as { reason: string }).reason).includes('/usage/inputTokens')),
      );
      expect((letter.value as { reason: string }).reason).toMatch(/must be >= 0/);
    },
    TIMEOUT,
  );
});
