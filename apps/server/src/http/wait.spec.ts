import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { createInMemoryBus } from '@orchestron/bus';
import { parseDefinitionText } from '@orchestron/definitions';
import { createInMemoryEventStore, EventStoreUnavailableError } from '@orchestron/event-store';
import { createOnboardingWorkers } from '@orchestron/example-workers';
import { Engine, MAX_WAIT_MS, ServerBusyError } from '@orchestron/runtime';
import { eventually } from '@orchestron/runtime/testing';
import type { Worker } from '@orchestron/worker-sdk';
import { createHttpApp } from './app.ts';
import type { HttpApp } from './app.ts';

/**
 * GET /v1/runs/:id/wait: a long poll on the run, woken by the read side, bounded, per tenant; and POST /v1/runs?waitMs=,
 * which starts a run and waits for its end in one request.
 */
const key = (name: string): string => `${name}-key-0123456789`;
const KEYS = [
  { key: key('admin'), role: 'admin', name: 'root' },
  { key: key('alice'), role: 'producer', name: 'alice', tenant: 'acme' },
  { key: key('bob'), role: 'producer', name: 'bob', tenant: 'globex' },
] as const;
const onboarding = parseDefinitionText(
  readFileSync(new URL('../../../../examples/employee-onboarding.yaml', import.meta.url), 'utf8'),
);

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('waiting on a run over HTTP', () => {
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
    app = await createHttpApp({ runs: engine, keys: KEYS });
  });

  afterEach(async () => {
    for (const w of workers) await w.stop();
    await engine.stop();
    await app.close();
  });

  const call = async (method: 'GET' | 'POST', url: string, body?: unknown, who = 'alice') => {
    const res = await app.nest.inject({
      method,
      url,
      ...(body !== undefined ? { payload: body as Json } : {}),
      headers: { authorization: `Bearer ${key(who)}` },
    });
    return { status: res.statusCode, body: res.json() as Json };
  };
  const start = async (input: Json): Promise<string> => {
    const started = await call('POST', '/v1/runs', { definitionId: 'employee-onboarding', input });
    expect(started.status).toBe(201);
    return started.body.run.id as string;
  };

  it('answers when the run has ended, with the ended run', async () => {
    const id = await start({ email: 'a@example.com' });
    const waited = await call('GET', `/v1/runs/${id}/wait?timeoutMs=20000`);
    expect(waited.status).toBe(200);
    expect(waited.body.run.status).toBe('completed');
    expect(waited.body.wait).toEqual({ ended: true, timedOut: false, position: expect.any(Number) });
    // An ended run answers at once, however long the caller would wait.
    const again = await call('GET', `/v1/runs/${id}/wait?timeoutMs=${MAX_WAIT_MS}`);
    expect(again.body.wait).toMatchObject({ ended: true, timedOut: false });
  });

  it('answers 200 with timedOut when the run is still waiting at the end of timeoutMs', async () => {
    const id = await start({ email: 'm@example.com', manager: true });
    let waited = await call('GET', `/v1/runs/${id}/wait?timeoutMs=100`);
    for (let i = 0; i < 100 && !waited.body.run.steps.some((s: Json) => s.status === 'waiting_approval'); i++)
      waited = await call('GET', `/v1/runs/${id}/wait?timeoutMs=100`);
    expect(waited.status).toBe(200);
    expect(waited.body.wait).toMatchObject({ ended: false, timedOut: true });
    expect(waited.body.run.status).not.toBe('completed');
  });

  it('with after, answers at the first change past that position, so a client can follow a run', async () => {
    const id = await start({ email: 'm@example.com', manager: true });
    const seen: string[] = [];
    let after = 0;
    for (let i = 0; i < 200; i++) {
      const waited = await call('GET', `/v1/runs/${id}/wait?timeoutMs=5000&after=${after}`);
      expect(waited.body.wait.position).toBeGreaterThanOrEqual(after);
      after = waited.body.wait.position;
      const gate = waited.body.run.steps.find((s: Json) => s.id === 'budget-approval');
      seen.push(`${waited.body.run.status}/${gate.status}`);
      if (gate.status === 'waiting_approval') break;
    }
    expect(seen.at(-1)).toBe('running/waiting_approval');
    expect(seen.length).toBeGreaterThan(1);
    // A wait past the current position is woken by the operator's approval, not by its timeout.
    const pending = call('GET', `/v1/runs/${id}/wait?timeoutMs=${MAX_WAIT_MS}`);
    const approved = await call('POST', `/v1/runs/${id}/actions/approve`, { stepId: 'budget-approval' }, 'admin');
    expect(approved.status).toBe(200);
    const ended = await pending;
    expect(ended.body.wait).toMatchObject({ ended: true, timedOut: false });
    expect(ended.body.run.status).toBe('completed');
  });

  it('does not let another tenant wait on a run, nor learn that it exists', async () => {
    const id = await start({ email: 'a@example.com' });
    // The run is in memory, so the check is made on the cached summary: that path must refuse too.
    expect(await eventually('the run in memory', () => engine.cachedSummary(id)?.tenant)).toBe('acme');
    const refused = await call('GET', `/v1/runs/${id}/wait?timeoutMs=10`, undefined, 'bob');
    expect(refused.status).toBe(404);
    expect(refused.body.error.code).toBe('RUN.NOT_FOUND');
    expect((await call('GET', '/v1/runs/no-such-run/wait?timeoutMs=10')).status).toBe(404);
  });

  it('refuses a timeout past the bound or not a number, naming the field', async () => {
    const id = await start({ email: 'a@example.com' });
    for (const bad of [`${MAX_WAIT_MS + 1}`, '-1', 'soon', '1.5']) {
      const refused = await call('GET', `/v1/runs/${id}/wait?timeoutMs=${bad}`);
      expect(refused.status).toBe(400);
      expect(refused.body.error.code).toBe('REQUEST.INVALID');
      expect(refused.body.error.details.field).toBe('timeoutMs');
      expect(refused.body.error.message).toContain(`from 0 to ${MAX_WAIT_MS}`);
    }
    const badAfter = await call('GET', `/v1/runs/${id}/wait?after=-3`);
    expect(badAfter.status).toBe(400);
    expect(badAfter.body.error.details.field).toBe('after');
  });
  describe('POST /v1/runs?waitMs=: start a run and wait for its end in one request', () => {
    const body = (input: Json, extra: Json = {}) => ({ definitionId: 'employee-onboarding', input, ...extra });
    const listed = async (): Promise<number> => (await call('GET', '/v1/runs')).body.runs.length as number;

    beforeEach(() => engine.definitions.register(onboarding, 'test', 'globex'));

    it('answers 201 with the ended run, and a repeat with the same key answers 200 with it at once', async () => {
      const first = body({ email: 'a@example.com' }, { idempotencyKey: 'k-1' });
      const started = await call('POST', '/v1/runs?waitMs=20000', first);
      expect(started.status).toBe(201);
      expect(started.body.run.status).toBe('completed');
      expect(started.body.wait).toEqual({ ended: true, timedOut: false, position: expect.any(Number) });
      const again = await call('POST', `/v1/runs?waitMs=${MAX_WAIT_MS}`, first);
      expect(again.status).toBe(200);
      expect(again.body.run.id).toBe(started.body.run.id);
      expect(again.body.wait).toMatchObject({ ended: true, timedOut: false });
    });

    it('answers with timedOut and the run as it stands when the run has not ended by waitMs', async () => {
      const started = await call('POST', '/v1/runs?waitMs=50', body({ email: 'm@example.com', manager: true }));
      expect(started.status).toBe(201);
      expect(started.body.wait).toMatchObject({ ended: false, timedOut: true });
      expect(started.body.run.status).not.toBe('completed');
    });

    it('without waitMs answers as soon as the run has started, with no wait', async () => {
      const started = await call('POST', '/v1/runs', body({ email: 'a@example.com' }));
      expect(started.status).toBe(201);
      expect(started.body.wait).toBeUndefined();
    });

    it('refuses a waitMs past the bound or not a number, naming the field, and starts nothing', async () => {
      for (const bad of [`${MAX_WAIT_MS + 1}`, '-1', 'soon', '1.5']) {
        const refused = await call('POST', `/v1/runs?waitMs=${bad}`, body({ email: 'a@x.io' }));
        expect(refused.status).toBe(400);
        expect(refused.body.error.code).toBe('REQUEST.INVALID');
        expect(refused.body.error.details.field).toBe('waitMs');
        expect(refused.body.error.message).toContain(`from 0 to ${MAX_WAIT_MS}`);
      }
      expect(await listed()).toBe(0);
    });

    it("does not hand another tenant's run to a caller who sends its idempotency key", async () => {
      const shared = body({ email: 'a@example.com' }, { idempotencyKey: 'shared' });
      const alices = await call('POST', '/v1/runs?waitMs=20000', shared);
      const bobs = await call('POST', '/v1/runs?waitMs=20000', shared, 'bob');
      expect(bobs.status).toBe(201);
      expect(bobs.body.run.id).not.toBe(alices.body.run.id);
      expect(bobs.body.wait).toMatchObject({ ended: true });
    });

    it('answers with the started run, not a 503, when the server cannot hold the wait (busy, the store away)', async () => {
      const failures = [
        new ServerBusyError('full', { limit: 'openWaits' }),
        new EventStoreUnavailableError('the store is away'),
      ];
      for (const [i, failure] of failures.entries()) {
        engine.awaitRun = () => Promise.reject(failure);
        const started = await call('POST', '/v1/runs?waitMs=20000', body({ email: 'a@x.io' }));
        expect(started.status).toBe(201);
        expect(started.body.run.id).toEqual(expect.any(String));
        expect(started.body.wait).toEqual({ ended: false, timedOut: true, position: 0, interruptedBy: failure.code });
        expect(await listed()).toBe(i + 1);
      }
    });

    it('still fails a start whose wait breaks on something that is not retryable', async () => {
      engine.awaitRun = () => Promise.reject(new TypeError('a bug'));
      expect((await call('POST', '/v1/runs?waitMs=20000', body({ email: 'a@x.io' }))).status).toBe(500);
    });
  });
});
