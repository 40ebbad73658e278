import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { createInMemoryBus } from '@orchestron/bus';
import { parseDefinitionText } from '@orchestron/definitions';
import { createInMemoryEventStore, EventStoreUnavailableError } from '@orchestron/event-store';
import { createOnboardingWorkers } from '@orchestron/example-workers';
import { Engine, MAX_WAIT_MS, ServerBusyError } from '@orchestron/runtime';
import type { Worker } from '@orchestron/worker-sdk';
import { createHttpApp } from './app.ts';
import type { HttpApp } from './app.ts';

/** POST /v1/runs?waitMs=: start a run and wait for its end in one request. */
const key = (name: string): string => `${name}-key-0123456789`;
const KEYS = [
  { key: key('alice'), role: 'producer', name: 'alice', tenant: 'acme' },
  { key: key('bob'), role: 'producer', name: 'bob', tenant: 'globex' },
] as const;
const onboarding = parseDefinitionText(
  readFileSync(new URL('../../../../examples/employee-onboarding.yaml', import.meta.url), 'utf8'),
);

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('starting a run and waiting for its end in one request', () => {
  let engine: Engine;
  let app: HttpApp;
  let workers: Worker[];

  beforeEach(async () => {
    const bus = createInMemoryBus();
    engine = new Engine({ store: createInMemoryEventStore(), bus });
    workers = createOnboardingWorkers({ bus, workMs: 5 });
    for (const w of workers) await w.start();
    await engine.start();
    await engine.definitions.register(onboarding, 'test', 'acme');
    await engine.definitions.register(onboarding, 'test', 'globex');
    app = await createHttpApp({ runs: engine, keys: KEYS });
  });

  afterEach(async () => {
    for (const w of workers) await w.stop();
    await engine.stop();
    await app.close();
  });

  const post = async (query: string, body: Json, who = 'alice') => {
    const res = await app.nest.inject({
      method: 'POST',
      url: `/v1/runs${query}`,
      payload: body,
      headers: { authorization: `Bearer ${key(who)}` },
    });
    return { status: res.statusCode, body: res.json() as Json };
  };
  const listed = async (): Promise<number> => {
    const res = await app.nest.inject({
      method: 'GET',
      url: '/v1/runs',
      headers: { authorization: `Bearer ${key('alice')}` },
    });
    return (res.json() as Json).runs.length as number;
  };

  it('answers 201 with the ended run, and a repeat with the same key answers 200 with it at once', async () => {
    const body = { definitionId: 'employee-onboarding', input: { email: 'a@example.com' }, idempotencyKey: 'k-1' };
    const started = await post('?waitMs=20000', body);
    expect(started.status).toBe(201);
    expect(started.body.run.status).toBe('completed');
    expect(started.body.wait).toEqual({ ended: true, timedOut: false, position: expect.any(Number) });
    const again = await post(`?waitMs=${MAX_WAIT_MS}`, body);
    expect(again.status).toBe(200);
    expect(again.body.run.id).toBe(started.body.run.id);
    expect(again.body.wait).toMatchObject({ ended: true, timedOut: false });
  });

  it('answers with timedOut and the run as it stands when the run has not ended by waitMs', async () => {
    const started = await post('?waitMs=50', {
      definitionId: 'employee-onboarding',
      input: { email: 'm@example.com', manager: true },
    });
    expect(started.status).toBe(201);
    expect(started.body.wait).toMatchObject({ ended: false, timedOut: true });
    expect(started.body.run.status).not.toBe('completed');
  });

  it('without waitMs answers as soon as the run has started, with no wait', async () => {
    const started = await post('', { definitionId: 'employee-onboarding', input: { email: 'a@example.com' } });
    expect(started.status).toBe(201);
    expect(started.body.wait).toBeUndefined();
  });

  it('refuses a waitMs past the bound or not a number, naming the field, and starts nothing', async () => {
    for (const bad of [`${MAX_WAIT_MS + 1}`, '-1', 'soon', '1.5']) {
      const refused = await post(`?waitMs=${bad}`, { definitionId: 'employee-onboarding', input: { email: 'a@x.io' } });
      expect(refused.status).toBe(400);
      expect(refused.body.error.code).toBe('REQUEST.INVALID');
      expect(refused.body.error.details.field).toBe('waitMs');
      expect(refused.body.error.message).toContain(`from 0 to ${MAX_WAIT_MS}`);
    }
    expect(await listed()).toBe(0);
  });

  it("does not hand another tenant's run to a caller who sends its idempotency key", async () => {
    const body = { definitionId: 'employee-onboarding', input: { email: 'a@example.com' }, idempotencyKey: 'shared' };
    const alices = await post('?waitMs=20000', body);
    const bobs = await post('?waitMs=20000', body, 'bob');
    expect(bobs.status).toBe(201);
    expect(bobs.body.run.id).not.toBe(alices.body.run.id);
    expect(bobs.body.wait).toMatchObject({ ended: true });
  });

  it('answers with the started run, not a 503, when the server cannot hold the wait (busy, or the store away)', async () => {
    const failures = [
      new ServerBusyError('full', { limit: 'openWaits' }),
      new EventStoreUnavailableError('the store is away'),
    ];
    for (const [i, failure] of failures.entries()) {
      engine.awaitRun = () => Promise.reject(failure);
      const started = await post('?waitMs=20000', { definitionId: 'employee-onboarding', input: { email: 'a@x.io' } });
      expect(started.status).toBe(201);
      expect(started.body.run.id).toEqual(expect.any(String));
      expect(started.body.wait).toEqual({ ended: false, timedOut: true, position: 0, interruptedBy: failure.code });
      expect(await listed()).toBe(i + 1);
    }
  });

  it('still fails a start whose wait breaks on something that is not retryable', async () => {
    engine.awaitRun = () => Promise.reject(new TypeError('a bug'));
    const started = await post('?waitMs=20000', { definitionId: 'employee-onboarding', input: { email: 'a@x.io' } });
    expect(started.status).toBe(500);
  });
});
