import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parseGovernanceDecisionMessage, Topics } from '@orchestron/bus';
import type { DeliveredMessage, GovernanceRequestMessage } from '@orchestron/bus';
import { createKafkaBus } from '@orchestron/bus-kafka';
import type { KafkaBus } from '@orchestron/bus-kafka';
import { createInbox, originalOf } from '@orchestron/bus/testing';
import type { Inbox } from '@orchestron/bus/testing';
import { acquireKafkaGroups, useKafkaBroker } from '@orchestron/bus-kafka/testing';
import { startGovernanceService } from './index.ts';
import type { GovernanceServiceHandle } from './index.ts';

// Against the real broker, on the real topics, which other tests share: everything here is told apart by
// unique run ids (the message keys) and unique consumer groups. The service gets a group of its own so that
// this instance, and no other governance instance running meanwhile, answers; a new group starts from the
// earliest offset, so it also answers older requests, which orchestrators ignore (their steps no longer wait).
const BROKERS = (process.env['ORCHESTRON_KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(',');
const RUN = randomUUID().slice(0, 8);
const POLICIES = new URL('../../../examples/policies/', import.meta.url).pathname;
const TIMEOUT = 90_000;

const needBroker = useKafkaBroker(BROKERS);

let client: KafkaBus | undefined;
let service: GovernanceServiceHandle | undefined;
const decisions = new Map<string, Inbox>();
const letters = new Map<string, Inbox>();

/** One watcher per output topic, routing each message to the inbox of its key (our run ids only). */
async function watch(bus: KafkaBus, topic: string, inboxes: Map<string, Inbox>): Promise<void> {
  await bus.subscribe(
    { topics: [topic], group: `orchestron-test-governance-${RUN}-watch-${topic}` },
    async (message: DeliveredMessage) => {
      await inboxes.get(message.key)?.handler(message);
    },
  );
}

function inboxFor(inboxes: Map<string, Inbox>, key: string): Inbox {
  const inbox = createInbox();
  inboxes.set(key, inbox);
  return inbox;
}

// Another governance service on the broker (a stack, a crash test) would answer these requests too.
let release: (() => void) | undefined;

beforeAll(async () => {
  needBroker();
  release = await acquireKafkaGroups('the governance service test on Kafka');
  client = createKafkaBus({
    brokers: BROKERS,
    clientId: `orchestron-test-governance-${RUN}`,
    partitions: 3,
    shutdownTimeoutMs: 2_000,
  });
  await client.ensureTopics([Topics.governanceRequests, Topics.governanceDecisions, Topics.deadLetters]);
  await watch(client, Topics.governanceDecisions, decisions);
  await watch(client, Topics.deadLetters, letters);
  service = await startGovernanceService({
    policiesDir: POLICIES,
    kafka: { brokers: BROKERS, partitions: 3 },
    instance: `governance-test-${RUN}`,
    group: `orchestron-test-governance-${RUN}`,
    watchPolicies: false,
  });
}, TIMEOUT);

afterAll(async () => {
  try {
    await service?.close();
    await client?.close();
  } finally {
    release?.();
  }
}, TIMEOUT);

function request(runId: string, stepId: string, action: string, input: unknown): GovernanceRequestMessage {
  return {
    type: 'governance.request',
    requestId: `${runId}/${stepId}/0123456789abcdef`,
    runId,
    definitionId: 'vendor-payment',
    definitionVersion: 1,
    stepId,
    worker: 'payments',
    action,
    input,
    inputDigest: '0123456789abcdef'.repeat(4),
    runInput: input,
    actor: 'producer:test',
    requestedAt: Date.UTC(2025, 0, 7, 10),
  };
}

describe('governance service on Kafka', () => {
  it(
    'answers a request on orchestron.governance.decisions, keyed by its run id',
    async () => {
      // Given a charge over the limit for a run of our own
      const runId = `run-${RUN}-${randomUUID().slice(0, 8)}`;
      const inbox = inboxFor(decisions, runId);
      const sent = request(runId, 'pay-vendor', 'charge', { amount: 1500, vendor: 'acme' });
      // When it is published as the orchestrator does
      await client?.publish(Topics.governanceRequests, [
        {
          key: runId,
          value: sent,
          headers: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
        },
      ]);
      // Then this instance's decision arrives, echoing the request
      const [message] = await inbox.until(1, 60_000);
      const decision = parseGovernanceDecisionMessage(message?.value);
      expect(decision).toMatchObject({
        requestId: sent.requestId,
        runId,
        stepId: 'pay-vendor',
        inputDigest: sent.inputDigest,
        outcome: 'require_approval',
        policyId: 'payment-over-limit',
        decidedBy: `governance-test-${RUN}`,
      });
      expect(message?.headers).toEqual({ traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' });
      expect(service?.policyIds()).toEqual(expect.arrayContaining(['payment-over-limit']));
    },
    TIMEOUT,
  );

  it(
    'dead-letters a request that does not match the wire schema, and decides nothing for it',
    async () => {
      // Given a request with no step and a string for its time
      const badRun = `run-${RUN}-bad-${randomUUID().slice(0, 8)}`;
      const goodRun = `run-${RUN}-good-${randomUUID().slice(0, 8)}`;
      const dead = inboxFor(letters, badRun);
      const badDecisions = inboxFor(decisions, badRun);
      const goodDecisions = inboxFor(decisions, goodRun);
      const { stepId: _missing, ...noStep } = request(badRun, 'pay-vendor', 'charge', { amount: 5 });
      const bad = { ...noStep, requestedAt: 'yesterday' };
      // When it is published, and a valid request after it
      await client?.publish(Topics.governanceRequests, [{ key: badRun, value: bad }]);
      await client?.publish(Topics.governanceRequests, [
        { key: goodRun, value: request(goodRun, 'validate-invoice', 'validate-invoice', { amount: 5 }) },
      ]);
      // Then the bad one lands on orchestron.dlq with the schema problem and the original request
      const [letter] = await dead.until(1, 60_000);
      const value = letter?.value as { reason: string; topic: string; group: string };
      expect(value.reason).toMatch(/^WireFormatError: not a valid governance\.request message: .*stepId/);
      expect(value.reason).toContain('/requestedAt must be integer');
      expect(value.topic).toBe(Topics.governanceRequests);
      expect(value.group).toBe(`orchestron-test-governance-${RUN}`);
      expect(originalOf(letter?.value)).toEqual(bad);
      // And the good one is decided while the bad one never is
      const [good] = await goodDecisions.until(1, 60_000);
      expect(good?.value).toMatchObject({ runId: goodRun, outcome: 'allow', policyId: 'baseline-allow' });
      expect(badDecisions.messages).toHaveLength(0);
    },
    TIMEOUT,
  );
});
