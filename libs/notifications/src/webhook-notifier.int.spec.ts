import { afterEach, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { createInMemoryEventStore } from '@orchestron/event-store';
import type { EventStore } from '@orchestron/event-store';
import { silentLogger } from '@orchestron/runtime';
import { DeliveryLog } from './delivery-log.ts';
import { webhookIdOf } from './delivery-log.ts';
import type { Notification } from './notification-types.ts';
import { startWebhookReceiver } from './testing/webhook-receiver.ts';
import type { ReceiverOptions, WebhookReceiver } from './testing/webhook-receiver.ts';
import type { WebhookEndpoint } from './webhook-config.ts';
import { startWebhookNotifier } from './webhook-notifier.ts';
import type { WebhookNotifier, WebhookNotifierOptions } from './webhook-notifier.ts';

const secret = (): string => `whsec_${randomBytes(32).toString('base64')}`;
const FAST_RETRY = { initialDelayMs: 20, maxDelayMs: 50 };

/** Real HTTP receivers and the in-memory event store (the port's own implementation): nothing here is mocked. */
describe('the webhook notifier', () => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });

  async function receiver(
    options?: ReceiverOptions,
  ): Promise<{ receiver: WebhookReceiver; endpoint: WebhookEndpoint }> {
    const key = secret();
    const started = await startWebhookReceiver(key, options);
    closers.push(() => started.close());
    const id = `r${closers.length}`;
    return { receiver: started, endpoint: { id, url: started.url, secret: key, events: null, tenant: null } };
  }

  async function notifier(
    options: Partial<WebhookNotifierOptions> & Pick<WebhookNotifierOptions, 'store' | 'endpoints'>,
  ): Promise<WebhookNotifier> {
    const started = await startWebhookNotifier({ logger: silentLogger, retry: FAST_RETRY, pollMs: 10, ...options });
    closers.push(() => started.close());
    return started;
  }

  async function startRun(store: EventStore, runId: string, tenant = 'default'): Promise<void> {
    await store.append(`run-${runId}`, [
      { type: 'RunStarted', data: { runId, definition: { id: 'onboarding', version: 3 }, input: {}, tenant, at: 1 } },
    ]);
  }

  const needsOperator = (code = 'SIMULATED.TERMINAL', stepId = 'a') => ({
    type: 'RunNeedsOperator',
    data: { code, message: `step "${stepId}" failed`, stepId, at: 2 },
  });

  it('sends a notification signed the Standard Webhooks way, with a webhook-id derived from the event id', async () => {
    const store = createInMemoryEventStore();
    const { receiver: hooks, endpoint } = await receiver();
    await notifier({ store, endpoints: [endpoint] });
    await startRun(store, 'r1', 'acme');
    await store.append('run-r1', [
      {
        type: 'ApprovalRequested',
        data: { stepId: 'ok', cause: 'approval_step', assignees: ['role:hr'], message: 'approve?', at: 2 },
      },
    ]);
    const [hook] = await hooks.waitFor(1);
    const [event] = await store.readStream('run-r1', { fromRevision: 1 });
    expect(hook?.verified).toBe(true);
    expect(hook?.headers['webhook-id']).toBe(webhookIdOf(event?.id as string));
    expect(hook?.headers['webhook-signature']).toMatch(/^v1,/);
    expect(hook?.payload).toMatchObject({
      type: 'approval.requested',
      data: {
        runId: 'r1',
        tenant: 'acme',
        definitionId: 'onboarding',
        stepId: 'ok',
        assignees: ['role:hr'],
        link: '/v1/runs/r1',
        eventId: event?.id,
        position: event?.position,
      },
    });
    expect(hook?.body).not.toContain(endpoint.secret.slice(6));
  });

  it('tries again after a 500, with the same webhook-id, and records the attempts', async () => {
    const store = createInMemoryEventStore();
    const { receiver: hooks, endpoint } = await receiver({ answer: (n) => (n === 0 ? 500 : 200) });
    await notifier({ store, endpoints: [endpoint] });
    await startRun(store, 'r1');
    await store.append('run-r1', [needsOperator()]);
    const [first, second] = await hooks.waitFor(2);
    expect(second?.headers['webhook-id']).toBe(first?.headers['webhook-id']);
    expect([first?.verified, second?.verified]).toEqual([true, true]);
    const log = new DeliveryLog(store.readRows!);
    await until(async () => (await log.list({ limit: 10 }))[0]?.status === 'delivered');
    const [record] = await log.list({ runId: 'r1', limit: 10 });
    expect(record).toMatchObject({
      status: 'delivered',
      attempts: 2,
      lastStatus: 200,
      endpoint: endpoint.id,
      nextAttemptAt: null,
    });
  });

  it('marks a delivery failed after its last attempt, with the last status and error', async () => {
    const store = createInMemoryEventStore();
    const { receiver: hooks, endpoint } = await receiver({ answer: () => 503 });
    await notifier({ store, endpoints: [endpoint], retry: { ...FAST_RETRY, maxAttempts: 3 } });
    await startRun(store, 'r1');
    await store.append('run-r1', [
      { type: 'RunFailed', data: { stepId: 'a', error: { code: 'X', message: 'y', retryable: false }, at: 2 } },
    ]);
    await hooks.waitFor(3);
    const log = new DeliveryLog(store.readRows!);
    await until(async () => (await log.list({ status: 'failed', limit: 10 })).length === 1);
    const [record] = await log.list({ status: 'failed', limit: 10 });
    expect(record).toMatchObject({ attempts: 3, lastStatus: 503, lastError: 'HTTP 503' });
  });

  it('sends each event once per endpoint, also when the log is read again from the start', async () => {
    const store = createInMemoryEventStore();
    const { receiver: hooks, endpoint } = await receiver();
    const first = await notifier({ store, endpoints: [endpoint] });
    await startRun(store, 'r1');
    await store.append('run-r1', [needsOperator()]);
    await hooks.waitFor(1);
    const log = new DeliveryLog(store.readRows!);
    await until(async () => (await log.list({ status: 'delivered', limit: 10 })).length === 1);
    await first.close();
    const again = await notifier({ store, endpoints: [endpoint], checkpointName: 'replay', startAt: 'beginning' });
    await until(async () => again.position() === (await store.readAll()).length);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(hooks.received).toHaveLength(1);
  });

  it('throttles per run: past the limit a run waits for its window, another run does not', async () => {
    const store = createInMemoryEventStore();
    const { receiver: hooks, endpoint } = await receiver();
    await notifier({ store, endpoints: [endpoint], runLimit: { count: 2, windowMs: 1_000 } });
    await startRun(store, 'busy');
    await startRun(store, 'calm');
    const began = Date.now();
    await store.append('run-busy', [needsOperator('A', 'a'), needsOperator('B', 'b'), needsOperator('C', 'c')]);
    await store.append('run-calm', [needsOperator('D', 'd')]);
    await hooks.waitFor(3);
    const codes = () => hooks.received.map((hook) => (hook.payload as Notification).data.code);
    expect(codes().sort()).toEqual(['A', 'B', 'D']);
    expect(Date.now() - began).toBeLessThan(900);
    const [, , , late] = await hooks.waitFor(4, 5_000);
    expect((late?.payload as Notification).data.code).toBe('C');
    expect((late?.at ?? 0) - began).toBeGreaterThanOrEqual(950);
  });

  it('a receiver that does not answer holds up neither the log nor another receiver', async () => {
    const store = createInMemoryEventStore();
    const hung = await receiver({ answer: () => 'hang' });
    const fine = await receiver();
    const started = await notifier({ store, endpoints: [hung.endpoint, fine.endpoint], timeoutMs: 30_000 });
    await startRun(store, 'r1');
    await startRun(store, 'r2');
    await store.append('run-r1', [needsOperator()]);
    await store.append('run-r2', [needsOperator()]);
    await fine.receiver.waitFor(2, 2_000);
    expect(started.position()).toBe((await store.readAll()).length);
    expect(hung.receiver.received.length).toBeGreaterThanOrEqual(1);
  });

  it('sends an endpoint only the events and tenant it asked for', async () => {
    const store = createInMemoryEventStore();
    const { receiver: hooks, endpoint } = await receiver();
    await notifier({ store, endpoints: [{ ...endpoint, events: ['run.failed'], tenant: 'acme' }] });
    await startRun(store, 'mine', 'acme');
    await startRun(store, 'theirs', 'globex');
    const failed = {
      type: 'RunFailed',
      data: { stepId: null, error: { code: 'X', message: 'y', retryable: false }, at: 2 },
    };
    await store.append('run-theirs', [failed]);
    await store.append('run-mine', [needsOperator(), failed]);
    const [hook] = await hooks.waitFor(1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(hooks.received).toHaveLength(1);
    expect(hook?.payload).toMatchObject({ type: 'run.failed', data: { runId: 'mine', tenant: 'acme' } });
  });

  it('sends after a restart what was pending, and starts where it stopped', async () => {
    const store = createInMemoryEventStore();
    const key = secret();
    const first = await receiver({ answer: () => 500 });
    const endpoint = { ...first.endpoint, secret: key };
    const before = await notifier({
      store,
      endpoints: [endpoint],
      retry: { initialDelayMs: 60_000, maxDelayMs: 60_000 },
    });
    await startRun(store, 'r1');
    await store.append('run-r1', [needsOperator()]);
    await first.receiver.waitFor(1);
    await before.close();
    await store.append('run-r1', [needsOperator('LATER')]);
    const up = await startWebhookReceiver(key);
    closers.push(() => up.close());
    await notifier({
      store,
      endpoints: [{ ...endpoint, url: up.url }],
      retry: { initialDelayMs: 60_000, maxDelayMs: 60_000 },
      clock: () => Date.now() + 120_000,
    });
    const hooks = await up.waitFor(2);
    expect(hooks.map((hook) => (hook.payload as Notification).data.code).sort()).toEqual([
      'LATER',
      'SIMULATED.TERMINAL',
    ]);
    expect(hooks.every((hook) => hook.verified)).toBe(true);
  });
});

async function until(check: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
