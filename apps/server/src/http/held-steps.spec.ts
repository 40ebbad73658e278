import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { createInMemoryBus } from '@orchestron/bus';
import { createInMemoryEventStore } from '@orchestron/event-store';
import { createPolicyGovernance, Engine, flowControlFromEnv } from '@orchestron/runtime';
import { eventually } from '@orchestron/runtime/testing';
import { createHttpApp } from './app.ts';
import type { HttpApp } from './app.ts';

const KEYS = [
  { key: 'admin-key-0123456789', role: 'admin', name: 'root' },
  { key: 'acme-operator-0123456789', role: 'operator', name: 'ann', tenant: 'acme' },
  { key: 'globex-producer-0123456789', role: 'producer', name: 'gus', tenant: 'globex' },
  { key: 'globex-operator-0123456789', role: 'operator', name: 'gil', tenant: 'globex' },
  { key: 'acme-worker-0123456789', role: 'worker', name: 'w', tenant: 'acme' },
] as const;
const [ADMIN, ACME_OPS, GLOBEX_PRODUCER, GLOBEX_OPS, WORKER] = KEYS.map((k) => k.key);
// One attempt at a time for worker "slow", which nobody serves: the first attempt stays out, the rest are held.
const FLOW = flowControlFromEnv(JSON.stringify({ workers: { slow: { concurrency: 1 } } }));

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('GET /v1/held-steps', () => {
  let engine: Engine;
  let app: HttpApp;
  const call = async (method: 'GET' | 'POST', url: string, key: string | undefined, body?: unknown) => {
    const res = await app.nest.inject({
      method,
      url,
      headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { payload: JSON.stringify(body) } : {}),
    });
    return { status: res.statusCode, body: res.json() as Json };
  };
  const start = async (key: string | undefined): Promise<string> => {
    const res = await call('POST', '/v1/runs', key, { definitionId: 'queued', input: {} });
    expect(res.status).toBe(201);
    return res.body.run.id as string;
  };
  const held = async (key: string | undefined, query = '') => {
    const res = await call('GET', `/v1/held-steps${query}`, key);
    return { status: res.status, ids: ((res.body.steps ?? []) as Json[]).map((s) => s.runId as string), res };
  };

  beforeEach(async () => {
    engine = new Engine({
      store: createInMemoryEventStore(),
      bus: createInMemoryBus(),
      governance: createPolicyGovernance([]),
      flowControl: FLOW,
    });
    await engine.start();
    app = await createHttpApp({ runs: engine, keys: KEYS });
    const definition = { id: 'queued', version: 1, steps: { go: { worker: 'slow' } } };
    for (const key of [ACME_OPS, GLOBEX_OPS])
      expect((await call('POST', '/v1/definitions', key, definition)).status).toBe(201);
  });

  afterEach(async () => {
    await app.close();
    await engine.stop();
  });

  it("lists each tenant's held steps with worker and reason, oldest first, and never another tenant's", async () => {
    const out = await start(ACME_OPS);
    const acmeHeld = await start(ACME_OPS);
    const globexHeld = await start(GLOBEX_PRODUCER);
    await eventually('two holds', async () => ((await held(ADMIN)).ids.length === 2 ? true : undefined));
    const acme = await held(ACME_OPS);
    expect(acme.ids).toEqual([acmeHeld]);
    expect(acme.res.body.steps[0]).toEqual({
      runId: acmeHeld,
      tenant: 'acme',
      definitionId: 'queued',
      stepId: 'go',
      worker: 'slow',
      reason: 'concurrency_limit',
      since: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      phase: 'execute',
    });
    expect((await held(GLOBEX_PRODUCER)).ids).toEqual([globexHeld]);
    expect((await held(ADMIN)).ids).toEqual([acmeHeld, globexHeld]);
    expect((await held(ADMIN, '?tenant=globex')).ids).toEqual([globexHeld]);
    expect((await held(ADMIN, '?limit=1')).ids).toEqual([acmeHeld]);
    expect((await held(ADMIN)).ids).not.toContain(out);
    const peek = await held(ACME_OPS, '?tenant=globex');
    expect({ status: peek.status, code: peek.res.body.error?.code }).toEqual({ status: 403, code: 'AUTH.FORBIDDEN' });
    expect((await held(WORKER)).status).toBe(403);
    expect((await held('not-a-key-0123456789')).status).toBe(401);
    expect((await held(ADMIN, '?limit=0')).status).toBe(400);
  });

  it('drops a step once it is no longer held (its run cancelled)', async () => {
    await start(ACME_OPS);
    const queued = await start(ACME_OPS);
    await eventually('a hold', async () => ((await held(ACME_OPS)).ids.length === 1 ? true : undefined));
    expect(
      (await call('POST', `/v1/runs/${queued}/actions/cancel`, ACME_OPS, { reason: 'no longer needed' })).status,
    ).toBe(200);
    expect((await held(ACME_OPS)).ids).toEqual([]);
  });
});
