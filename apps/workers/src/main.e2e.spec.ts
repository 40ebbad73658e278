import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { Topics } from '@orchestron/bus';
import type { StepCommandMessage, StepEventMessage } from '@orchestron/bus';
import { createKafkaBus } from '@orchestron/bus-kafka';
import { useKafkaBroker } from '@orchestron/bus-kafka/testing';

// `node apps/workers/src/main.ts` as its own process, on the real broker and PostgreSQL.
const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
const BROKERS = (process.env['ORCHESTRON_KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(',');
const PG_URL = process.env['ORCHESTRON_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const SCHEMA = `orchestron_workers_${randomBytes(4).toString('hex')}`;
const needBroker = useKafkaBroker(BROKERS);

afterAll(async () => {
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`DROP SCHEMA IF EXISTS "${SCHEMA}" CASCADE`);
  await admin.end();
});

function startService(instance: string): {
  child: ChildProcess;
  ready: Promise<string>;
  stderr: () => string;
  exited: Promise<number | null>;
} {
  // payments, not records: service.int.spec.ts runs a records worker in the same group, maybe at the same time.
  const child = spawn(process.execPath, [MAIN, '--worker', 'payments', '--instance', instance], {
    env: {
      ...process.env,
      ORCHESTRON_PG_SCHEMA: SCHEMA,
      ORCHESTRON_WORK_MS: '0',
      ORCHESTRON_REPORT_STARTED_AFTER_MS: '0',
      ORCHESTRON_KAFKA_SESSION_TIMEOUT_MS: '6000',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('\n')) resolve(out.trim());
    });
    void exited.then((code) => reject(new Error(`the service exited with ${code} before it was ready:\n${err}`)));
  });
  return { child, ready, stderr: () => err, exited };
}

describe('apps/workers main', () => {
  it('says it is ready, finishes a running step on SIGTERM, logs JSON lines, and exits 0', async () => {
    needBroker();
    const bus = createKafkaBus({
      brokers: BROKERS,
      clientId: `orchestron-workers-e2e-${randomUUID().slice(0, 8)}`,
      partitions: 3,
    });
    const service = startService('e2e-1');
    try {
      expect(await service.ready).toBe(
        `Orchestron workers ready: payments (instance e2e-1; Kafka ${BROKERS.join(',')}; ledger schema ${SCHEMA})`,
      );
      const runId = `run-workers-e2e-${randomUUID()}`;
      const seen: StepEventMessage[] = [];
      await bus.subscribe(
        { topics: [Topics.stepEvents], group: `orchestron-test-workers-e2e-${randomUUID()}` },
        async (m) => {
          if ((m.value as StepEventMessage).runId === runId) seen.push(m.value as StepEventMessage);
        },
      );
      const command: StepCommandMessage = {
        type: 'step.execute',
        runId,
        stepId: 'pay-vendor',
        attempt: 1,
        worker: 'payments',
        action: 'charge',
        // `slow`: about 4 s of work with heartbeats, so SIGTERM arrives while it runs.
        input: { vendor: 'acme', amount: 200, simulate: { 'pay-vendor': 'slow' } },
        idempotencyKey: `${runId}/pay-vendor/1`,
        deadline: Date.now() + 120_000,
        heartbeatIntervalMs: null,
        definitionId: 'vendor-payment',
      };
      await bus.publish(Topics.commands('payments'), [{ key: runId, value: command }]);
      for (let i = 0; i < 600 && !seen.some((e) => e.type === 'step.started'); i++)
        await new Promise((r) => setTimeout(r, 50));
      expect(seen.map((e) => e.type)).toContain('step.started');
      service.child.kill('SIGTERM');
      expect(await service.exited).toBe(0);
      for (let i = 0; i < 200 && !seen.some((e) => e.type === 'step.completed'); i++)
        await new Promise((r) => setTimeout(r, 50));
      expect(seen.at(-1)).toMatchObject({
        type: 'step.completed',
        output: { paymentId: expect.stringMatching(/^pay-/), amount: 200 },
      });
      expect(seen.filter((e) => e.type === 'step.heartbeat').length).toBeGreaterThan(0);
      const lines = service
        .stderr()
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { msg: string; instance: string });
      expect(lines.every((l) => l.instance === 'e2e-1')).toBe(true);
      expect(lines.map((l) => l.msg)).toEqual(
        expect.arrayContaining(['workers started', 'shutting down', 'workers stopped']),
      );
    } finally {
      service.child.kill('SIGKILL');
      await bus.close();
    }
  }, 120_000);

  it('exits 2 naming the problem when a worker name is unknown', async () => {
    const child = spawn(process.execPath, [MAIN, '--worker', 'billing'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(2);
    expect(err).toMatch(
      /unknown worker "billing"; known: identity, iam, mail, workspace, chat, payments, records, llm/,
    );
  });
});
