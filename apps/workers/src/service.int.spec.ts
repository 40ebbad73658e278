import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { Topics } from '@orchestron/bus';
import type { StepCommandMessage, StepEventMessage } from '@orchestron/bus';
import { createKafkaBus } from '@orchestron/bus-kafka';
import { acquireKafkaGroups, useKafkaBroker } from '@orchestron/bus-kafka/testing';
import { PostgresLedger } from '@orchestron/example-workers';
import { startWorkerService } from './index.ts';

// Against the real broker and PostgreSQL. Topic names are fixed and shared with other tests on the same broker:
// the run id is unique, the spy's group is unique, and whatever is not ours is ignored. The workers' group is the
// real one (orchestron-worker-records), so another records worker on the broker may answer instead: the answer is
// the same, and so is what this test checks.
const BROKERS = (process.env['ORCHESTRON_KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(',');
const PG_URL = process.env['ORCHESTRON_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const SCHEMA = `orchestron_workers_${randomBytes(4).toString('hex')}`;
const needBroker = useKafkaBroker(BROKERS);

// The records workers of a stack or crash test on the broker share this group, and would answer instead.
let release: (() => void) | undefined;
beforeAll(async () => {
  release = await acquireKafkaGroups('the worker service test on Kafka');
}, 16 * 60_000);

afterAll(async () => {
  release?.();
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`DROP SCHEMA IF EXISTS "${SCHEMA}" CASCADE`);
  await admin.end();
});

describe('the worker service on Kafka', () => {
  it('takes a step.execute from orchestron.commands.records and answers step.started and step.completed on orchestron.step.events', async () => {
    needBroker();
    const bus = createKafkaBus({
      brokers: BROKERS,
      clientId: `orchestron-workers-test-${randomUUID().slice(0, 8)}`,
      partitions: 3,
      sessionTimeoutMs: 6_000,
      shutdownTimeoutMs: 5_000,
    });
    const ledger = await PostgresLedger.open({ url: PG_URL, schema: SCHEMA });
    const runId = `run-workers-int-${randomUUID()}`;
    const seen: { event: StepEventMessage; traceparent: string | undefined }[] = [];
    let service: Awaited<ReturnType<typeof startWorkerService>> | undefined;
    try {
      await bus.subscribe(
        { topics: [Topics.stepEvents], group: `orchestron-test-workers-spy-${randomUUID()}` },
        async (m) => {
          const event = m.value as StepEventMessage;
          if (event.runId === runId) seen.push({ event, traceparent: m.headers?.traceparent });
        },
      );
      service = await startWorkerService({
        bus,
        ledger,
        workers: ['records'],
        instance: 'int-1',
        workMs: 0,
        reportStartedAfterMs: 0,
      });
      const command: StepCommandMessage = {
        type: 'step.execute',
        runId,
        stepId: 'read-record',
        attempt: 1,
        worker: 'records',
        action: 'read-patient-record',
        input: { patientId: 'p-123', purpose: 'treatment' },
        idempotencyKey: `${runId}/read-record/1`,
        deadline: Date.now() + 60_000,
        heartbeatIntervalMs: null,
        definitionId: 'patient-record-access',
      };
      const traceparent = `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`;
      await bus.publish(Topics.commands('records'), [{ key: runId, value: command, headers: { traceparent } }]);

      for (let i = 0; i < 600 && !seen.some((s) => s.event.type === 'step.completed'); i++)
        await new Promise((r) => setTimeout(r, 50));
      expect(seen.map((s) => s.event.type)).toEqual(['step.started', 'step.completed']);
      expect(seen[1]?.event).toMatchObject({
        runId,
        stepId: 'read-record',
        attempt: 1,
        phase: 'execute',
        output: { patientId: 'p-123', purpose: 'treatment', synthetic: true },
      });
      expect(seen.map((s) => s.traceparent)).toEqual([traceparent, traceparent]);
    } finally {
      await service?.close();
      await bus.close();
      await ledger.close();
    }
  }, 90_000);
});
