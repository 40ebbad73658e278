import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from '@jest/globals';
import { createInMemoryBus, Topics } from '@orchestron/bus';
import type { StepCommandMessage, StepEventMessage } from '@orchestron/bus';
import { SqliteLedger } from '@orchestron/example-workers';
import { jsonLogger } from '@orchestron/runtime';
import { createMemoryLedger } from '@orchestron/worker-sdk';
import { startWorkerService } from './index.ts';

const charge = (runId: string): StepCommandMessage => ({
  type: 'step.execute',
  runId,
  stepId: 'pay-vendor',
  attempt: 1,
  worker: 'payments',
  action: 'charge',
  input: { vendor: 'acme', amount: 200 },
  idempotencyKey: `${runId}/pay-vendor/1`,
  deadline: Date.now() + 60_000,
  heartbeatIntervalMs: null,
  definitionId: 'vendor-payment',
});

describe('startWorkerService', () => {
  it('runs the named workers on the given bus until closed, and logs JSON lines naming them and the instance', async () => {
    const bus = createInMemoryBus();
    const events: StepEventMessage[] = [];
    await bus.subscribe({ topics: [Topics.stepEvents], group: 'spy' }, async (m) => {
      events.push(m.value as StepEventMessage);
    });
    const lines: string[] = [];
    const service = await startWorkerService({
      bus,
      ledger: createMemoryLedger(),
      workers: ['payments', 'records'],
      instance: 'test-1',
      workMs: 0,
      reportStartedAfterMs: 0,
      logger: jsonLogger({ service: 'w' }, (l) => lines.push(l)),
    });
    expect(service.workers).toEqual(['payments', 'records']);

    const runId = `run-${randomUUID()}`;
    await bus.publish(Topics.commands('payments'), [{ key: runId, value: charge(runId) }]);
    for (let i = 0; i < 400 && !events.some((e) => e.runId === runId && e.type === 'step.completed'); i++)
      await sleep(5);
    expect(events.filter((e) => e.runId === runId).map((e) => e.type)).toEqual(['step.started', 'step.completed']);
    expect(events.find((e) => e.type === 'step.completed')).toMatchObject({
      output: { paymentId: expect.stringMatching(/^pay-/), amount: 200 },
    });

    await service.close();
    const after = `run-${randomUUID()}`;
    await bus.publish(Topics.commands('payments'), [{ key: after, value: charge(after) }]);
    await sleep(50);
    expect(events.filter((e) => e.runId === after)).toEqual([]);
    const logged = lines.map((l) => JSON.parse(l) as { msg: string; workers?: string[]; instance?: string });
    expect(logged.map((l) => l.msg)).toEqual(['workers started', 'step attempt finished', 'workers stopped']);
    expect(logged[0]).toMatchObject({ workers: ['payments', 'records'], instance: 'test-1' });
    expect(logged[1]).toMatchObject({ runId, stepId: 'pay-vendor', attempt: 1, worker: 'payments', ok: true });
  });

  it('shares the work between two instances of a worker, and runs a redelivered attempt once', async () => {
    const bus = createInMemoryBus();
    const ledger = new SqliteLedger(join(mkdtempSync(join(tmpdir(), 'orchestron-workers-')), 'ledger.sqlite'));
    const events: StepEventMessage[] = [];
    await bus.subscribe({ topics: [Topics.stepEvents], group: 'spy' }, async (m) => {
      events.push(m.value as StepEventMessage);
    });
    const settings = { bus, ledger, workers: ['records'], workMs: 5, reportStartedAfterMs: 0 };
    const one = await startWorkerService({ ...settings, instance: 'one' });
    const two = await startWorkerService({ ...settings, instance: 'two' });
    const runIds = Array.from({ length: 20 }, () => `run-${randomUUID()}`);
    for (const runId of runIds) {
      const command: StepCommandMessage = {
        ...charge(runId),
        worker: 'records',
        stepId: 'read-record',
        action: 'read-patient-record',
        input: { patientId: 'p-1' },
        idempotencyKey: `${runId}/read-record/1`,
      };
      await bus.publish(Topics.commands('records'), [{ key: runId, value: command }]);
      // The same command again, as a redelivery after a rebalance would bring it.
      await bus.publish(Topics.commands('records'), [{ key: runId, value: command }]);
    }
    for (let i = 0; i < 400 && events.filter((e) => e.type === 'step.completed').length < 20; i++) await sleep(5);
    await sleep(50);
    await Promise.all([one.close(), two.close()]);
    expect(events.filter((e) => e.type === 'step.started')).toHaveLength(20);
    for (const runId of runIds)
      expect(events.filter((e) => e.runId === runId && e.type === 'step.completed').length).toBeGreaterThanOrEqual(1);
    expect(await ledger.executionCount()).toBe(20);
    expect(await ledger.duplicateExecutions()).toBe(0);
    expect(new Set(ledger.executions().map((e) => e.instance))).toEqual(new Set(['one', 'two']));
    ledger.close();
  });

  it('refuses to start without a worker, and with an unknown one', async () => {
    const bus = createInMemoryBus();
    await expect(startWorkerService({ bus, ledger: createMemoryLedger(), workers: [], instance: 'x' })).rejects.toThrow(
      /at least one worker/,
    );
    await expect(
      startWorkerService({ bus, ledger: createMemoryLedger(), workers: ['billing'], instance: 'x' }),
    ).rejects.toThrow(/unknown example worker "billing"/);
  });
});
