import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createInMemoryBus } from '@orchestron/bus';
import { createInMemoryEventStore } from '@orchestron/event-store';
import { Engine } from '@orchestron/runtime';
import { createWorker, TerminalError } from '@orchestron/worker-sdk';
import type { StepContext, Worker } from '@orchestron/worker-sdk';
import { createHttpApp } from './app.ts';
import type { HttpApp } from './app.ts';

/** POST /v1/runs/:id/fork: a new run from a run's state at a revision, per role and tenant. */
const key = (name: string): string => `${name}-key-0123456789`;
const KEYS = [
  { key: key('alice'), role: 'producer', name: 'alice', tenant: 'acme' },
  { key: key('olga'), role: 'operator', name: 'olga', tenant: 'acme' },
  { key: key('audrey'), role: 'auditor', name: 'audrey', tenant: 'acme' },
  { key: key('otto'), role: 'operator', name: 'otto', tenant: 'globex' },
  { key: key('root'), role: 'admin', name: 'root' },
] as const;

/** a → b → c; c fails for good on its first try, so the parent ends failed with a and b done. */
const chain = {
  id: 'chain',
  version: 1,
  input: { schema: { type: 'object', required: ['n'], properties: { n: { type: 'integer' } } } },
  defaults: { retry: { maxAttempts: 1 } },
  steps: {
    a: { worker: 'fork-w', action: 'a', input: { n: '${{ input.n }}' } },
    b: { worker: 'fork-w', action: 'b', needs: ['a'], input: { fromA: '${{ steps.a.output.v }}' } },
    c: {
      worker: 'fork-w',
      action: 'c',
      needs: ['b'],
      input: { fromB: '${{ steps.b.output.v }}', n: '${{ input.n }}' },
    },
  },
};

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('fork over HTTP', () => {
  let engine: Engine;
  let app: HttpApp;
  let worker: Worker;
  const bus = createInMemoryBus();
  const calls: { action: string; input: Json }[] = [];
  let parentId: string;
  let events: Json[];

  const call = async (url: string, who: string, method: 'GET' | 'POST' = 'GET', body?: Json) => {
    const res = await app.nest.inject({
      method,
      url,
      ...(body !== undefined ? { payload: body } : {}),
      headers: { authorization: `Bearer ${key(who)}` },
    });
    return { status: res.statusCode, body: res.json() as Json };
  };
  const settled = async (id: string) => (await call(`/v1/runs/${id}/wait?timeoutMs=20000`, 'olga')).body.run as Json;

  beforeAll(async () => {
    engine = new Engine({ store: createInMemoryEventStore(), bus });
    // c fails for good unless its input says n is over 1.
    const handler = (action: string) => async (ctx: StepContext) => {
      calls.push({ action, input: ctx.input as Json });
      if (action === 'c' && !((ctx.input as Json).n > 1)) throw new TerminalError('n too small', 'C.BROKE');
      return { v: `${action}-out` };
    };
    worker = createWorker({
      name: 'fork-w',
      bus,
      handlers: { a: handler('a'), b: handler('b'), c: handler('c') },
    });
    await worker.start();
    await engine.start();
    await engine.definitions.register(chain, 'test', 'acme');
    app = await createHttpApp({ runs: engine, keys: KEYS });
    const started = await call('/v1/runs', 'alice', 'POST', { definitionId: 'chain', input: { n: 1 } });
    parentId = started.body.run.id as string;
    expect((await settled(parentId)).status).toBe('failed');
    events = (await call(`/v1/runs/${parentId}/events`, 'olga')).body.events as Json[];
  });

  afterAll(async () => {
    await worker.stop();
    await engine.stop();
    await app.close();
  });

  const revisionAfter = (stepId: string): number =>
    events.find((e) => e.type === 'StepCompleted' && e.data.stepId === stepId)?.revision as number;

  it('starts a linked run with the steps done by the revision, runs the rest, and leaves the parent as it was', async () => {
    const at = revisionAfter('b');
    calls.length = 0;
    const forked = await call(`/v1/runs/${parentId}/fork`, 'olga', 'POST', { at, input: { n: 2 }, reason: 'n fixed' });
    expect(forked.status).toBe(201);
    const child = forked.body.run as Json;
    expect(child.id).not.toBe(parentId);
    expect(child.forkedFrom).toEqual({ runId: parentId, revision: at, reason: 'n fixed' });
    expect(child.input).toEqual({ n: 2 });
    expect(child.startedBy).toBe('operator:olga');
    const done = await settled(child.id as string);
    expect(done.status).toBe('completed');
    expect(done.steps.map((s: Json) => [s.id, s.status, s.attempt])).toEqual([
      ['a', 'completed', 0],
      ['b', 'completed', 0],
      ['c', 'completed', 1],
    ]);
    // Only c ran, with the parent's output of b.
    expect(calls).toEqual([{ action: 'c', input: { fromB: 'b-out', n: 2 } }]);
    const first = (await call(`/v1/runs/${child.id as string}/events`, 'olga')).body.events[0] as Json;
    expect(first.data.forkedFrom).toMatchObject({ runId: parentId, revision: at, steps: { a: {}, b: {} } });
    expect((await call(`/v1/runs/${parentId}/events`, 'olga')).body.events).toHaveLength(events.length);
  });

  it('keeps the parent input unless given, and forks at an earlier revision to run more again', async () => {
    const forked = await call(`/v1/runs/${parentId}/fork`, 'root', 'POST', { at: revisionAfter('a') });
    expect(forked.status).toBe(201);
    expect(forked.body.run.input).toEqual({ n: 1 });
    const done = await settled(forked.body.run.id as string);
    expect(done.status).toBe('failed');
    expect(done.steps.map((s: Json) => s.attempt)).toEqual([0, 1, 1]);
  });

  it('refuses an at past the end or not a revision, naming it, and an input the schema refuses', async () => {
    const past = await call(`/v1/runs/${parentId}/fork`, 'olga', 'POST', { at: events.length });
    expect(past.status).toBe(400);
    expect(past.body.error).toMatchObject({ code: 'COMMAND.INVALID', details: { field: 'at' } });
    expect(past.body.error.message).toMatch(/past the run's newest revision/);
    for (const at of ['3', -1, 1.5, undefined]) {
      const bad = await call(`/v1/runs/${parentId}/fork`, 'olga', 'POST', at === undefined ? {} : { at });
      expect(bad.status).toBe(400);
      expect(bad.body.error).toMatchObject({ code: 'REQUEST.INVALID', details: { field: 'at' } });
    }
    const input = await call(`/v1/runs/${parentId}/fork`, 'olga', 'POST', { at: 1, input: { n: 'x' } });
    expect(input.status).toBe(400);
    expect(input.body.error.code).toBe('RUN.INPUT_INVALID');
  });

  it('is for operators and admins; another tenant sees no such run; an unknown run is 404', async () => {
    for (const who of ['alice', 'audrey'])
      expect((await call(`/v1/runs/${parentId}/fork`, who, 'POST', { at: 1 })).status).toBe(403);
    const other = await call(`/v1/runs/${parentId}/fork`, 'otto', 'POST', { at: 1 });
    expect(other.status).toBe(404);
    expect(other.body.error.code).toBe('RUN.NOT_FOUND');
    expect((await call('/v1/runs/no-such-run/fork', 'olga', 'POST', { at: 1 })).status).toBe(404);
  });

  it('puts the fork in its parent tenant, also when an admin of another forks it', async () => {
    const forked = await call(`/v1/runs/${parentId}/fork`, 'root', 'POST', { at: 1 });
    expect((await call(`/v1/runs/${forked.body.run.id as string}`, 'olga')).status).toBe(200);
    expect((await call(`/v1/runs/${forked.body.run.id as string}`, 'otto')).status).toBe(404);
  });
});
