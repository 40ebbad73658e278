/**
 * The attacks of the security review (issue 8), by name, against the embedded tier's HTTP API: a producer taking
 * over a workflow with an inline definition, governance bypassed by a definition without `sideEffect`, and one
 * tenant reading another's runs or reusing its idempotency keys.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { createInMemoryBus } from '@orchestron/bus';
import { parseDefinitionText } from '@orchestron/definitions';
import { createInMemoryEventStore } from '@orchestron/event-store';
import type { EventStore } from '@orchestron/event-store';
import { createExampleWorkers } from '@orchestron/example-workers';
import { createPolicyGovernance, Engine, runMetricsSource } from '@orchestron/runtime';
import { createMetrics } from '@orchestron/telemetry';
import { eventually } from '@orchestron/runtime/testing';
import type { Worker } from '@orchestron/worker-sdk';
import { createHttpApp } from './app.ts';
import type { HttpApp } from './app.ts';

const key = (name: string): string => `${name}-key-0123456789abcdef`;
const KEYS = [
  { key: key('admin'), role: 'admin', name: 'root' },
  { key: key('ops'), role: 'operator', name: 'ops' },
  { key: key('alice'), role: 'producer', name: 'alice', tenant: 'acme' },
  { key: key('bob'), role: 'producer', name: 'bob', tenant: 'globex' },
  { key: key('acme-ops'), role: 'operator', name: 'acme-ops', tenant: 'acme' },
  { key: key('producer'), role: 'producer', name: 'shop' },
] as const;
const example = (file: string): string =>
  readFileSync(new URL(`../../../../examples/${file}`, import.meta.url), 'utf8');
const vendorPayment = parseDefinitionText(example('vendor-payment.yaml')) as Record<string, unknown>;
const policies = ['onboarding.cedar', 'payments.cedar'].map((name) => ({ name, text: example(`policies/${name}`) }));

/** The review's attack: v2 of someone else's workflow, with the charge no longer flagged as a side effect. */
const hijacked = {
  ...vendorPayment,
  version: 2,
  steps: {
    'pay-vendor': {
      worker: 'payments',
      action: 'charge',
      input: { amount: '${{ input.amount }}', vendor: '${{ input.vendor }}' },
    },
  },
};

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('the security review, on the embedded tier', () => {
  let engine: Engine;
  let store: EventStore;
  let app: HttpApp;
  let workers: Worker[];

  beforeEach(async () => {
    const bus = createInMemoryBus();
    store = createInMemoryEventStore();
    engine = new Engine({ store, bus, governance: createPolicyGovernance(policies) });
    workers = createExampleWorkers({ bus, workMs: 0, workers: ['payments'] });
    for (const w of workers) await w.start();
    await engine.start();
    await engine.definitions.register(vendorPayment, 'system:test');
    await engine.definitions.register(vendorPayment, 'system:test', 'acme');
    await engine.definitions.register(vendorPayment, 'system:test', 'globex');
    app = await createHttpApp({ runs: engine, keys: KEYS });
  });

  afterEach(async () => {
    for (const w of workers) await w.stop();
    await engine.stop();
    await app.close();
  });

  const call = async (method: 'GET' | 'POST', url: string, as: string, body?: unknown) => {
    const res = await app.nest.inject({
      method,
      url,
      headers: { authorization: `Bearer ${key(as)}` },
      ...(body !== undefined ? { payload: body as Json } : {}),
    });
    return { status: res.statusCode, body: res.json() as Json };
  };
  const settled = (runId: string, as = 'admin') =>
    eventually(`run ${runId} to settle`, async () => {
      const { body } = await call('GET', `/v1/runs/${runId}`, as);
      return ['completed', 'failed', 'compensated', 'needs_operator'].includes(body.run.status) ||
        body.run.steps.some((s: Json) => s.status === 'waiting_approval')
        ? body.run
        : null;
    });

  describe('definition takeover', () => {
    it('a producer cannot register v2 of a workflow inline in a start, and nothing is registered or charged', async () => {
      const refused = await call('POST', '/v1/runs', 'producer', {
        definition: hijacked,
        input: { vendor: 'evil', amount: 999_999 },
      });
      expect(refused.status).toBe(403);
      expect(refused.body.error).toMatchObject({ code: 'AUTH.FORBIDDEN', details: { field: 'definition' } });
      expect(refused.body.error.message).toContain('may not register definitions');
      expect(engine.definitions.list('default').find((d) => d.id === 'vendor-payment')?.versions).toEqual([1]);
      expect(await engine.listRuns({})).toEqual([]);
    });

    it("an operator's later start by id still gets v1, and its approval gate", async () => {
      await call('POST', '/v1/runs', 'producer', { definition: hijacked, input: { vendor: 'evil', amount: 999_999 } });
      const started = await call('POST', '/v1/runs', 'ops', {
        definitionId: 'vendor-payment',
        input: { vendor: 'acme', amount: 5_000 },
      });
      expect(started.status).toBe(201);
      expect(started.body.run.definition.version).toBe(1);
      const run = await settled(started.body.run.id);
      expect(run.steps.find((s: Json) => s.id === 'pay-vendor')).toMatchObject({
        status: 'waiting_approval',
        governance: { policyId: 'payment-over-limit' },
      });
    });

    it('a producer may spell out a registered version inline: it registers nothing new', async () => {
      const started = await call('POST', '/v1/runs', 'producer', {
        definition: vendorPayment,
        input: { vendor: 'acme', amount: 10 },
      });
      expect(started.status).toBe(201);
      expect((await settled(started.body.run.id)).status).toBe('completed');
    });

    it('a version, once registered, never changes, whoever asks', async () => {
      const changed = await call('POST', '/v1/definitions', 'admin', { ...vendorPayment, description: 'changed' });
      expect(changed.status).toBe(409);
      expect(changed.body.error.code).toBe('DEFINITION.VERSION_CONFLICT');
    });

    it('registration is an audited event naming the actor and the key id', async () => {
      expect((await call('POST', '/v1/definitions', 'ops', hijacked)).status).toBe(201);
      const [event] = await store.readStream('definition-vendor-payment', { fromRevision: 1 });
      expect(event).toMatchObject({
        type: 'DefinitionRegistered',
        metadata: { actor: 'operator:ops', keyId: 'cfg-ops', tenant: 'default' },
      });
    });
  });

  describe('input as data', () => {
    it("keeps keys named like Object.prototype's members inside a run's input: they are data, not an attack", async () => {
      const input = {
        vendor: 'acme',
        amount: 10,
        meta: { constructor: 'Ada', prototype: { a: 1 }, toString: 'x', valueOf: [1], hasOwnProperty: null },
      };
      const started = await call('POST', '/v1/runs', 'producer', { definitionId: 'vendor-payment', input });
      expect(started.status).toBe(201);
      expect(started.body.run.input).toEqual(input);
      expect((await engine.getRun(started.body.run.id as string))?.input).toEqual(input);
    });

    it('still refuses the keys that could pollute a prototype, naming them', async () => {
      const res = await app.nest.inject({
        method: 'POST',
        url: '/v1/runs',
        headers: { authorization: `Bearer ${key('producer')}`, 'content-type': 'application/json' },
        payload: '{"definitionId":"vendor-payment","input":{"a":{"__proto__":{"polluted":true}}}}',
      });
      expect(res.statusCode).toBe(400);
      expect(res.json().error.message).toContain('__proto__');
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });
  });

  describe('governance bypass', () => {
    it('a definition without sideEffect does not get a charge past the policies: 999,999 waits for approval', async () => {
      // Even registered by someone who may: the policies rule on every step, whatever the definition flags.
      expect((await call('POST', '/v1/definitions', 'ops', hijacked)).status).toBe(201);
      const started = await call('POST', '/v1/runs', 'ops', {
        definitionId: 'vendor-payment',
        definitionVersion: 2,
        input: { vendor: 'evil', amount: 999_999 },
      });
      const run = await settled(started.body.run.id);
      const pay = run.steps.find((s: Json) => s.id === 'pay-vendor');
      expect(pay).toMatchObject({
        status: 'waiting_approval',
        attempt: 0,
        governance: { outcome: 'require_approval', policyId: 'payment-over-limit' },
      });
    });

    it('which version a start by id gets is explicit: "latest" or a number, and the run records it', async () => {
      await call('POST', '/v1/definitions', 'ops', hijacked);
      const latest = await call('POST', '/v1/runs', 'ops', {
        definitionId: 'vendor-payment',
        definitionVersion: 'latest',
        input: { vendor: 'a', amount: 1 },
      });
      const pinned = await call('POST', '/v1/runs', 'ops', {
        definitionId: 'vendor-payment',
        definitionVersion: 1,
        input: { vendor: 'a', amount: 1 },
      });
      expect([latest.body.run.definition.version, pinned.body.run.definition.version]).toEqual([2, 1]);
      const bad = await call('POST', '/v1/runs', 'ops', {
        definitionId: 'vendor-payment',
        definitionVersion: 'newest',
        input: {},
      });
      expect(bad.body.error).toMatchObject({ code: 'REQUEST.INVALID', details: { field: 'definitionVersion' } });
    });
  });

  describe('tenants', () => {
    const start = (as: string, idempotencyKey?: string) =>
      call('POST', '/v1/runs', as, {
        definitionId: 'vendor-payment',
        input: { vendor: 'acme', amount: 10 },
        ...(idempotencyKey ? { idempotencyKey } : {}),
      });

    it("bob cannot read alice's run, its history, or act on it: it does not exist for him", async () => {
      const { body } = await start('alice');
      const id = body.run.id as string;
      expect((await call('GET', `/v1/runs/${id}`, 'alice')).status).toBe(200);
      for (const [method, url, as] of [
        ['GET', `/v1/runs/${id}`, 'bob'],
        ['POST', `/v1/runs/${id}/actions/cancel`, 'ops'],
        ['GET', `/v1/runs/${id}/events`, 'ops'],
      ] as const) {
        const refused = await call(method, url, as, method === 'POST' ? {} : undefined);
        expect({ url, as, status: refused.status, code: refused.body.error?.code }).toEqual({
          url,
          as,
          status: 404,
          code: 'RUN.NOT_FOUND',
        });
      }
      expect((await call('GET', `/v1/runs/${id}/events`, 'acme-ops')).status).toBe(200);
      expect((await call('GET', `/v1/runs/${id}`, 'admin')).status).toBe(200);
    });

    it("lists only the caller's tenant; an admin lists every tenant, or one", async () => {
      const a = (await start('alice')).body.run.id;
      const b = (await start('bob')).body.run.id;
      const ids = async (as: string, query = '') =>
        ((await call('GET', `/v1/runs${query}`, as)).body.runs as Json[]).map((r) => r.id).sort();
      expect(await ids('alice')).toEqual([a]);
      expect(await ids('bob')).toEqual([b]);
      expect(await ids('admin')).toEqual([a, b].sort());
      expect(await ids('admin', '?tenant=globex')).toEqual([b]);
      expect((await call('GET', '/v1/runs?tenant=globex', 'alice')).status).toBe(403);
    });

    it("idempotency keys are per tenant: the same key names two runs, and neither sees the other's", async () => {
      const a = await start('alice', 'invoice-7');
      const b = await start('bob', 'invoice-7');
      expect([a.status, b.status]).toEqual([201, 201]);
      expect(a.body.run.id).not.toBe(b.body.run.id);
      expect((await start('alice', 'invoice-7')).status).toBe(200);
    });

    it('counts runs per tenant in the metrics', async () => {
      await start('alice');
      await start('alice');
      await start('bob');
      const text = await runMetricsSource(
        engine,
        createMetrics({ service: 'security-test', defaultMetrics: false }),
      ).render();
      const total = (tenant: string) =>
        text
          .split('\n')
          .filter((l) => l.startsWith('orchestron_runs{') && l.includes(`tenant="${tenant}"`))
          .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
      expect([total('acme'), total('globex'), total('default')]).toEqual([2, 1, 0]);
    });

    it("definitions are per tenant: one tenant's registration is not another's", async () => {
      expect((await call('POST', '/v1/definitions', 'acme-ops', hijacked)).status).toBe(201);
      const versions = async (as: string) =>
        ((await call('GET', '/v1/definitions', as)).body.definitions as Json[]).find((d) => d.id === 'vendor-payment')
          ?.versions;
      expect(await versions('alice')).toEqual([1, 2]);
      expect(await versions('bob')).toEqual([1]);
      expect((await call('GET', '/v1/definitions/vendor-payment?version=2', 'bob')).status).toBe(404);
    });
  });
});
