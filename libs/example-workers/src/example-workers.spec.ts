import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from '@jest/globals';
import { createInMemoryBus, Topics } from '@orchestron/bus';
import type { MessageBus, StepCommandMessage, StepEventMessage } from '@orchestron/bus';
import type { Worker } from '@orchestron/worker-sdk';
import { createExampleWorkers, createOnboardingWorkers, EXAMPLE_WORKER_NAMES } from './index.ts';

const running: Worker[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((w) => w.stop()));
});

async function start(names?: readonly string[]): Promise<{
  bus: MessageBus;
  call: (worker: string, command: Partial<StepCommandMessage>) => Promise<StepEventMessage>;
}> {
  const bus = createInMemoryBus();
  const finals = new Map<string, StepEventMessage>();
  await bus.subscribe({ topics: [Topics.stepEvents], group: 'spy' }, async (m) => {
    const event = m.value as StepEventMessage;
    if (event.type === 'step.completed' || event.type === 'step.failed')
      finals.set(`${event.runId}/${event.stepId}/${event.phase}/${event.attempt}`, event);
  });
  const workers = createExampleWorkers({ bus, workMs: 0, ...(names ? { workers: names } : {}) });
  for (const w of workers) await w.start();
  running.push(...workers);
  return {
    bus,
    async call(worker, partial) {
      const runId = partial.runId ?? `run-${randomUUID()}`;
      const stepId = partial.stepId ?? 'step';
      const attempt = partial.attempt ?? 1;
      const phase = partial.type === 'step.compensate' ? 'compensate' : 'execute';
      const command: StepCommandMessage = {
        type: 'step.execute',
        runId,
        stepId,
        attempt,
        worker,
        action: null,
        input: {},
        deadline: null,
        heartbeatIntervalMs: null,
        definitionId: 'test',
        idempotencyKey:
          phase === 'execute' ? `${runId}/${stepId}/${attempt}` : `${runId}/${stepId}/compensate/${attempt}`,
        ...partial,
      };
      await bus.publish(Topics.commands(worker), [{ key: runId, value: command }]);
      const key = `${runId}/${stepId}/${phase}/${attempt}`;
      for (let i = 0; i < 400 && !finals.has(key); i++) await sleep(5);
      const event = finals.get(key);
      if (!event) throw new Error(`no outcome from ${worker} for ${key}`);
      return event;
    },
  };
}

describe('createExampleWorkers', () => {
  it('starts exactly the workers it is asked for', async () => {
    const { call } = await start(['payments', 'records']);
    expect((await call('records', { action: 'read-patient-record', input: { patientId: 'p-1' } })).type).toBe(
      'step.completed',
    );
    await expect(call('identity', { input: { email: 'a@b.c' } })).rejects.toThrow(/no outcome from identity/);
  });

  it('starts all of them by default, and the onboarding five with createOnboardingWorkers', () => {
    const bus = createInMemoryBus();
    expect(createExampleWorkers({ bus }).map((w) => w.name)).toEqual([...EXAMPLE_WORKER_NAMES]);
    expect(createOnboardingWorkers({ bus }).map((w) => w.name)).toEqual([
      'identity',
      'iam',
      'mail',
      'workspace',
      'chat',
    ]);
  });

  it('rejects an unknown worker name, listing the known ones', () => {
    expect(() => createExampleWorkers({ bus: createInMemoryBus(), workers: ['payments', 'billing'] })).toThrow(
      /unknown example worker "billing"; known: identity, iam, mail, workspace, chat, payments, records/,
    );
  });
});

describe('the payments worker', () => {
  it('validates an invoice and fails for good on one without a positive amount', async () => {
    const { call } = await start(['payments']);
    const ok = await call('payments', {
      action: 'validate-invoice',
      input: { vendor: 'acme', amount: 200, invoiceId: 'inv-7' },
    });
    expect(ok).toMatchObject({
      type: 'step.completed',
      output: { invoiceId: 'inv-7', vendor: 'acme', amount: 200, valid: true },
    });
    const bad = await call('payments', { action: 'validate-invoice', input: { vendor: 'acme', amount: -3 } });
    expect(bad).toMatchObject({ type: 'step.failed', error: { code: 'PAYMENTS.INVALID_INVOICE', retryable: false } });
    expect(JSON.stringify(bad)).toContain('amount must be a positive number');
  });

  it('charges with a payment id derived from the idempotency key, and refunds the payment named in the compensation input', async () => {
    const { call } = await start(['payments']);
    const runId = `run-${randomUUID()}`;
    const first = await call('payments', {
      runId,
      stepId: 'pay-vendor',
      action: 'charge',
      input: { vendor: 'acme', amount: 200 },
    });
    const second = await call('payments', {
      runId,
      stepId: 'pay-vendor',
      attempt: 2,
      action: 'charge',
      input: { vendor: 'acme', amount: 200 },
    });
    const paymentId = (first as { output: { paymentId: string } }).output.paymentId;
    expect(paymentId).toMatch(/^pay-[0-9a-f]{10}$/);
    expect((second as { output: { paymentId: string } }).output.paymentId).not.toBe(paymentId);
    const refund = await call('payments', {
      runId,
      stepId: 'pay-vendor',
      type: 'step.compensate',
      action: 'refund',
      input: { input: { vendor: 'acme', amount: 200 }, output: (first as { output: unknown }).output },
    });
    expect(refund).toMatchObject({
      type: 'step.completed',
      phase: 'compensate',
      output: { paymentId, status: 'refunded', amount: 200 },
    });
    const nothing = await call('payments', {
      type: 'step.compensate',
      action: 'refund',
      input: { input: {}, output: null },
    });
    expect(nothing).toMatchObject({
      type: 'step.failed',
      error: { code: 'PAYMENTS.NOTHING_TO_REFUND', retryable: false },
    });
  });
});

describe('the records worker', () => {
  it('returns the same fake record for a patientId every time, and fails for good without one', async () => {
    const { call } = await start(['records']);
    const a = await call('records', {
      action: 'read-patient-record',
      input: { patientId: 'p-123', purpose: 'treatment' },
    });
    const b = await call('records', {
      action: 'read-patient-record',
      input: { patientId: 'p-123', purpose: 'treatment' },
    });
    expect(a).toMatchObject({
      type: 'step.completed',
      output: { patientId: 'p-123', purpose: 'treatment', synthetic: true },
    });
    expect((a as { output: unknown }).output).toEqual((b as { output: unknown }).output);
    const missing = await call('records', { action: 'read-patient-record', input: { purpose: 'treatment' } });
    expect(missing).toMatchObject({
      type: 'step.failed',
      error: { code: 'RECORDS.PATIENT_ID_REQUIRED', retryable: false },
    });
  });
});

describe('simulations', () => {
  it('fail-once fails the first attempt retryably and passes the second; fail-terminal fails for good', async () => {
    const { call } = await start(['mail']);
    const runId = `run-${randomUUID()}`;
    const input = { to: 'a@b.c', simulate: { 'send-welcome': 'fail-once', other: 'fail-terminal' } };
    expect(await call('mail', { runId, stepId: 'send-welcome', input })).toMatchObject({
      type: 'step.failed',
      error: { code: 'SIMULATED.FAIL_ONCE', retryable: true },
    });
    expect(await call('mail', { runId, stepId: 'send-welcome', attempt: 2, input })).toMatchObject({
      type: 'step.completed',
    });
    expect(await call('mail', { runId, stepId: 'other', input })).toMatchObject({
      type: 'step.failed',
      error: { code: 'SIMULATED.TERMINAL', retryable: false },
    });
  });

  it("reads a compensation's simulation from the step input it undoes", async () => {
    const { call } = await start(['identity']);
    const input = {
      input: { email: 'a@b.c', simulate: { 'compensate:create-account': 'fail-always' } },
      output: { accountId: 'acc-1' },
    };
    expect(
      await call('identity', { stepId: 'create-account', type: 'step.compensate', action: 'delete-account', input }),
    ).toMatchObject({ type: 'step.failed', error: { code: 'SIMULATED.FAIL_ALWAYS' } });
  });
});
