import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Admin } from '@platformatic/kafka';
import { createInMemoryEventStore } from '@orchestron/event-store';
import type { Logger } from '@orchestron/runtime';
// Types only: erased, so they load nothing before the prefix is set.
import type { Inbox } from '@orchestron/bus/testing';
import type { KafkaBus } from '@orchestron/bus-kafka';
import type { OrchestratorHandle } from './start-orchestrator.ts';

// Topic and group names come from ORCHESTRON_TOPIC_PREFIX when @orchestron/bus is first loaded: it is set before
// that, so this orchestrator, its topics and its groups are its own on the broker other tests share. Everything
// that names a topic is imported after it.
const RUN = randomUUID().slice(0, 8);
process.env['ORCHESTRON_TOPIC_PREFIX'] = `contract-${RUN}.`;
const { parseStepCommandMessage, Topics } = await import('@orchestron/bus');
const { createInbox, originalOf, sleep } = await import('@orchestron/bus/testing');
const { createKafkaBus } = await import('@orchestron/bus-kafka');
const { useKafkaBroker } = await import('@orchestron/bus-kafka/testing');
const { startOrchestrator } = await import('./start-orchestrator.ts');

const BROKERS = (process.env['ORCHESTRON_KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(',');
const TIMEOUT = 90_000;
const needBroker = useKafkaBroker(BROKERS);

const definition = {
  id: 'contract',
  version: 1,
  defaults: { timeout: '10m' },
  steps: {
    a: { worker: `signup-${RUN}`, heartbeatTimeout: '30s', compensate: { worker: `cleanup-${RUN}`, action: 'close' } },
    b: { worker: `signup-${RUN}`, needs: ['a'] },
  },
};

let admin: Admin | undefined;
const commands = new Map<string, Inbox>();
let bus: KafkaBus | undefined;
let orchestrator: OrchestratorHandle | undefined;
const debug: Record<string, unknown>[] = [];
const letters = new Map<string, Inbox>();

const logger: Logger = {
  debug: (message, fields) => debug.push({ message, ...fields }),
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

beforeAll(async () => {
  needBroker();
  admin = new Admin({ clientId: `contract-${RUN}-admin`, bootstrapBrokers: BROKERS });
  bus = createKafkaBus({ brokers: BROKERS, clientId: `contract-${RUN}`, partitions: 3, shutdownTimeoutMs: 2_000 });
  await bus.subscribe({ topics: [Topics.deadLetters], group: Topics.group('dlq-watch') }, async (message) => {
    await letters.get(message.key)?.handler(message);
  });
  orchestrator = await startOrchestrator({
    store: createInMemoryEventStore(),
    bus,
    instance: `contract-${RUN}`,
    logger,
  });
}, TIMEOUT);

afterAll(async () => {
  await orchestrator?.close();
  await bus?.close();
  const ours = (await admin?.listTopics())?.filter((topic) => topic.startsWith(Topics.prefix)) ?? [];
  if (ours.length > 0) await admin?.deleteTopics({ topics: ours }).catch(() => undefined);
  await admin?.close();
}, TIMEOUT);

function inboxFor(inboxes: Map<string, Inbox>, key: string): Inbox {
  const inbox = createInbox();
  inboxes.set(key, inbox);
  return inbox;
}

async function report(value: Record<string, unknown>): Promise<void> {
  await bus?.publish(Topics.stepEvents, [{ key: value.runId as string, value }]);
}

describe('the orchestrator on Kafka: a worker contract a stranger can follow', () => {
  it(
    "creates every worker's command topic when a definition naming it is registered, before any run",
    async () => {
      const engine = (orchestrator as OrchestratorHandle).engine;
      const topics = [Topics.commands(`signup-${RUN}`), Topics.commands(`cleanup-${RUN}`)];
      const before = await (admin as Admin).listTopics();
      expect(topics.filter((t) => before.includes(t))).toEqual([]);
      await engine.definitions.register(definition, 'test');
      const after = await (admin as Admin).listTopics();
      expect(topics.filter((t) => after.includes(t))).toEqual(topics);
      expect(await engine.listRuns({})).toEqual([]);
    },
    TIMEOUT,
  );

  it(
    'dead-letters a report for an unknown step and one for an unknown run, each with its reason; a duplicate is a no-op',
    async () => {
      const engine = (orchestrator as OrchestratorHandle).engine;
      await engine.definitions.register(definition, 'test');
      // A worker's group that joins before the first dispatch.
      await bus?.subscribe(
        { topics: [Topics.commands(`signup-${RUN}`)], group: Topics.group(`orchestron-worker-signup-${RUN}`) },
        async (message) => {
          await commands.get(message.key)?.handler(message);
        },
      );
      const { run } = await engine.startRun({ definitionId: 'contract', input: {}, actor: 'test' });
      const dispatched = inboxFor(commands, run.runId);
      // The orchestrator has governance rule on every step: it allows this one, as the governance service would.
      const asked = run.steps.a?.status === 'waiting_governance' ? run.steps.a.askedDigest : 'none';
      await bus?.publish(Topics.governanceDecisions, [
        {
          key: run.runId,
          value: {
            type: 'governance.decision',
            requestId: `${run.runId}/a`,
            runId: run.runId,
            stepId: 'a',
            inputDigest: asked,
            outcome: 'allow',
            policyId: null,
            reason: 'test',
            decidedAt: Date.now(),
            decidedBy: 'test',
          },
        },
      ]);
      for (let i = 0; i < 400 && (await engine.getRun(run.runId))?.steps.a?.status !== 'running'; i++) await sleep(50);
      const [command] = await dispatched.until(1, 60_000);
      // What the stranger's worker relies on: the schema, an integer deadline, and the heartbeat pace (30s / 3).
      expect(parseStepCommandMessage(command?.value)).toMatchObject({
        type: 'step.execute',
        stepId: 'a',
        attempt: 1,
        heartbeatIntervalMs: 10_000,
      });
      expect(Number.isInteger((command?.value as { deadline: unknown }).deadline)).toBe(true);
      const nobody = `nobody-${RUN}`;
      const [forRun, forNobody] = [inboxFor(letters, run.runId), inboxFor(letters, nobody)];

      const ghost = { type: 'step.completed', runId: run.runId, stepId: 'ghost', attempt: 1, phase: 'execute' };
      await report(ghost);
      await report({ type: 'step.completed', runId: nobody, stepId: 'a', attempt: 1, phase: 'execute', output: 1 });
      // The real attempt completes, and the same report again changes nothing: no letter, a debug line.
      const done = { type: 'step.completed', runId: run.runId, stepId: 'a', attempt: 1, phase: 'execute' };
      await report(done);
      await report(done);

      const [unknownStep] = await forRun.until(1, 60_000);
      expect(unknownStep?.value).toMatchObject({
        topic: Topics.stepEvents,
        group: Topics.group('orchestron-orchestrator'),
      });
      expect((unknownStep?.value as { reason: string }).reason).toBe(
        `DomainError: step.completed for run "${run.runId}" rejected (STEP.NOT_FOUND): the run has no step "ghost" (definition "contract" v1)`,
      );
      expect(originalOf(unknownStep?.value)).toEqual(ghost);
      const [unknownRun] = await forNobody.until(1, 60_000);
      expect((unknownRun?.value as { reason: string }).reason).toBe(
        `DomainError: step.completed for run "${nobody}" rejected (RUN.NOT_FOUND): the run does not exist`,
      );

      for (let i = 0; i < 200 && !debug.some((d) => d.reason === 'attempt_settled'); i++) await sleep(50);
      expect(debug).toContainEqual(
        expect.objectContaining({
          message: 'message changed nothing',
          runId: run.runId,
          stepId: 'a',
          reason: 'attempt_settled',
        }),
      );
      expect((await engine.getRun(run.runId))?.steps.a?.status).toBe('completed');
      // The duplicate was not dead-lettered: the only letter about this run stays the unknown step's.
      await sleep(1_500);
      expect(forRun.messages).toHaveLength(1);
    },
    TIMEOUT,
  );
});
