import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createInMemoryBus } from '@orchestron/bus';
import { createInMemoryEventStore } from '@orchestron/event-store';
import { Engine } from '@orchestron/runtime';
import { createHttpApp } from './app.ts';
import type { HttpApp } from './app.ts';

/** POST /v1/events: events from outside for event steps, per role and tenant, tried as an attacker too. */
const key = (name: string): string => `${name}-key-0123456789`;
const KEYS = [
  { key: key('alice'), role: 'producer', name: 'alice', tenant: 'acme' },
  { key: key('olga'), role: 'operator', name: 'olga', tenant: 'acme' },
  { key: key('audrey'), role: 'auditor', name: 'audrey', tenant: 'acme' },
  { key: key('wendy'), role: 'worker', name: 'wendy', tenant: 'acme' },
  { key: key('greg'), role: 'producer', name: 'greg', tenant: 'globex' },
  { key: key('root'), role: 'admin', name: 'root' },
] as const;

const contract = {
  id: 'contract',
  version: 1,
  steps: { signed: { type: 'event', event: 'contract.signed', match: '${{ input.contractId }}', timeout: '1h' } },
};

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('POST /v1/events', () => {
  let engine: Engine;
  let app: HttpApp;

  const call = async (url: string, who: string, method: 'GET' | 'POST' = 'GET', body?: unknown) => {
    const res = await app.nest.inject({
      method,
      url,
      ...(body !== undefined ? { payload: body as Json } : {}),
      headers: { authorization: `Bearer ${key(who)}`, 'content-type': 'application/json' },
    });
    return { status: res.statusCode, body: res.json() as Json };
  };
  const send = (who: string, body: Json) => call('/v1/events', who, 'POST', body);
  const waiting = async (who: string, contractId: string): Promise<string> => {
    const started = await call('/v1/runs', who, 'POST', { definitionId: 'contract', input: { contractId } });
    const id = started.body.run.id as string;
    for (let i = 0; i < 200; i++) {
      const run = (await call(`/v1/runs/${id}`, 'root')).body.run as Json;
      if (run.steps[0].status === 'waiting_event') break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    // The wait is registered in the correlation stream in the background: give it a moment.
    await new Promise((resolve) => setTimeout(resolve, 50));
    return id;
  };

  beforeAll(async () => {
    engine = new Engine({ store: createInMemoryEventStore(), bus: createInMemoryBus() });
    await engine.start();
    await engine.definitions.register(contract, 'test', 'acme');
    await engine.definitions.register(contract, 'test', 'globex');
    app = await createHttpApp({ runs: engine, keys: KEYS });
  });

  afterAll(async () => {
    await engine.stop();
    await app.close();
  });

  it('delivers to the waiting run (200, which runs), whose step shows what it waited for and then the payload', async () => {
    const runId = await waiting('alice', 'c-1');
    const read = (await call(`/v1/runs/${runId}`, 'alice')).body;
    const before = read.run as Json;
    expect(read.agent_contract.next_actions).toContainEqual(
      expect.objectContaining({
        action: 'send_event',
        method: 'POST',
        endpoint: '/v1/events',
        body: { name: 'contract.signed', key: 'c-1', id: '<your event id>', payload: '<json>' },
      }),
    );
    expect(before.steps[0]).toMatchObject({
      type: 'event',
      status: 'waiting_event',
      waitsFor: { event: 'contract.signed', key: 'c-1', timeoutAt: expect.any(String) },
    });
    const answer = await send('alice', { name: 'contract.signed', key: 'c-1', id: 'e-1', payload: { by: 'bob' } });
    expect(answer.status).toBe(200);
    expect(answer.body.event).toEqual({
      status: 'delivered',
      eventId: 'e-1',
      deliveredTo: [{ runId, stepId: 'signed' }],
    });
    expect(answer.body.agent_contract.next_actions[0]).toMatchObject({ method: 'GET', endpoint: `/v1/runs/${runId}` });
    const after = (await call(`/v1/runs/${runId}`, 'alice')).body.run as Json;
    expect(after).toMatchObject({ status: 'completed', steps: [{ status: 'completed', output: { by: 'bob' } }] });
  });

  it('answers a duplicate id as a duplicate, and delivers nothing again', async () => {
    const runId = await waiting('alice', 'c-2');
    await send('alice', { name: 'contract.signed', key: 'c-2', id: 'dup', payload: 1 });
    const again = await send('alice', { name: 'contract.signed', key: 'c-2', id: 'dup', payload: 2 });
    expect(again).toMatchObject({
      status: 200,
      body: { event: { status: 'duplicate', deliveredTo: [{ runId, stepId: 'signed' }] } },
    });
    expect((await call(`/v1/runs/${runId}`, 'alice')).body.run.steps[0].output).toBe(1);
  });

  it('buffers an early event (202, until when) and the run that waits for it later takes it', async () => {
    const early = await send('olga', { name: 'contract.signed', key: 'c-3', id: 'early', payload: { early: true } });
    expect(early.status).toBe(202);
    expect(early.body.event).toMatchObject({ status: 'buffered', deliveredTo: [], expiresAt: expect.any(String) });
    const started = await call('/v1/runs', 'alice', 'POST', { definitionId: 'contract', input: { contractId: 'c-3' } });
    const run = (await call(`/v1/runs/${started.body.run.id}/wait?timeoutMs=5000`, 'alice')).body.run as Json;
    expect(run).toMatchObject({ status: 'completed', steps: [{ output: { early: true } }] });
  });

  it("never reaches another tenant's runs: the same name and key from globex is buffered for globex", async () => {
    const runId = await waiting('alice', 'c-4');
    const foreign = await send('greg', { name: 'contract.signed', key: 'c-4', id: 'g-1', payload: 'evil' });
    expect(foreign).toMatchObject({ status: 202, body: { event: { status: 'buffered' } } });
    expect((await call(`/v1/runs/${runId}`, 'alice')).body.run.steps[0].status).toBe('waiting_event');
    // Nor may a producer name another tenant.
    const named = await send('greg', { name: 'contract.signed', key: 'c-4', id: 'g-2', tenant: 'acme' });
    expect(named).toMatchObject({ status: 403, body: { error: { code: 'AUTH.FORBIDDEN' } } });
    // An admin may.
    const admin = await send('root', { name: 'contract.signed', key: 'c-4', id: 'a-1', tenant: 'acme' });
    expect(admin.body.event).toMatchObject({ status: 'delivered', deliveredTo: [{ runId }] });
  });

  it('admits producers, operators and admins; refuses auditors, workers and no key', async () => {
    const body = { name: 'contract.signed', key: 'nobody', id: 'r-1' };
    expect((await send('audrey', body)).status).toBe(403);
    expect((await send('wendy', body)).status).toBe(403);
    const anonymous = await app.nest.inject({ method: 'POST', url: '/v1/events', payload: body });
    expect(anonymous.statusCode).toBe(401);
  });

  it('refuses hostile input with 400 naming the field, and a payload over 256 KiB with 413', async () => {
    const base = { name: 'contract.signed', key: 'k', id: 'h-1' };
    for (const [body, field] of [
      [{ ...base, name: '' }, 'name'],
      [{ ...base, name: 'x'.repeat(201) }, 'name'],
      [{ ...base, key: 'k'.repeat(513) }, 'key'],
      [{ ...base, key: 7 }, 'key'],
      [{ ...base, id: 'a\u0000b' }, 'id'],
      [{ ...base, id: undefined }, 'id'],
      [{ ...base, tenant: '../acme' }, 'tenant'],
    ] as const) {
      const answer = await send('alice', body);
      expect({ field, status: answer.status, code: answer.body.error?.code }).toEqual({
        field,
        status: 400,
        code: 'REQUEST.INVALID',
      });
      expect(answer.body.error.message).toContain(`"${field}"`);
    }
    const huge = await send('alice', { ...base, payload: 'x'.repeat(300 * 1024) });
    expect(huge).toMatchObject({ status: 413, body: { error: { code: 'REQUEST.TOO_LARGE' } } });
    const unknownField = await send('alice', { ...base, extra: 1 });
    expect(unknownField.status).toBe(400);
  });
});
