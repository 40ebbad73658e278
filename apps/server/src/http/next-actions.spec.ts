import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createInMemoryBus } from '@orchestron/bus';
import { createInMemoryEventStore } from '@orchestron/event-store';
import { Engine } from '@orchestron/runtime';
import { createWorker, TerminalError } from '@orchestron/worker-sdk';
import type { StepContext, Worker } from '@orchestron/worker-sdk';
import { createHttpApp } from './app.ts';
import type { HttpApp } from './app.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const OPERATOR = 'olga-key-0123456789';
const KEYS = [{ key: OPERATOR, role: 'operator', name: 'olga' }] as const;

/** check → gate (approval) → pay. check fails for good on a run's first call: a dependency that was down. */
const definition = (id: string, onFailure: 'fail' | 'escalate') => ({
  id,
  version: 1,
  onFailure,
  defaults: { retry: { maxAttempts: 1 } },
  steps: {
    check: { worker: 'walk-w', action: 'check' },
    gate: { type: 'approval', needs: ['check'] },
    pay: { worker: 'walk-w', action: 'pay', needs: ['gate'] },
  },
});

/**
 * An agent that knows nothing of the API but the discovery document and each answer's agent_contract: it picks an
 * action by name from next_actions, calls its method and endpoint with its body, and fills the `<…>` placeholders.
 * Issue 15: "a test walks a run through failure, approval and re-drive using only next_actions".
 */
describe('an agent driving runs by agent_contract.next_actions alone', () => {
  let engine: Engine;
  let app: HttpApp;
  let worker: Worker;
  const bus = createInMemoryBus();
  const checked = new Set<string>();

  const request = async (method: string, url: string, body?: unknown): Promise<{ status: number; body: Json }> => {
    const res = await app.nest.inject({
      method: method as 'GET' | 'POST',
      url,
      ...(body !== undefined ? { payload: body as Json } : {}),
      headers: { authorization: `Bearer ${OPERATOR}` },
    });
    return { status: res.statusCode, body: res.json() as Json };
  };
  const fill = (body: Json | undefined): Json | undefined =>
    body === undefined
      ? undefined
      : Object.fromEntries(Object.entries(body).map(([k, v]) => [k, v === '<why>' ? `agent: ${k} given` : v]));
  /** Follow the named next action of an answer; fails the test if the answer does not offer it. */
  const follow = async (answer: Json, name: string): Promise<{ status: number; body: Json }> => {
    const offered = (answer.agent_contract.next_actions as Json[]).map((a) => a.action as string);
    const next = (answer.agent_contract.next_actions as Json[]).find((a) => a.action === name);
    if (next === undefined) throw new Error(`"${name}" is not offered; next_actions: ${offered.join(', ')}`);
    return request(next.method as string, next.endpoint as string, fill(next.body as Json | undefined));
  };
  /** wait_for_run from next_actions until the run is in `status` (the wait answers at each change). */
  const waitUntil = async (answer: Json, done: (run: Json) => boolean): Promise<Json> => {
    let current = answer;
    for (let i = 0; i < 30 && !done(current.run as Json); i++) current = (await follow(current, 'wait_for_run')).body;
    expect(done(current.run as Json)).toBe(true);
    return current;
  };
  const stepStatus = (run: Json, stepId: string) => (run.steps as Json[]).find((s) => s.id === stepId)?.status;
  const start = async (definitionId: string): Promise<Json> => {
    const discovery = (await app.nest.inject({ method: 'GET', url: '/.well-known/agent.json' })).json() as Json;
    const route = (discovery.endpoints as Json[]).find((e) => e.method === 'POST' && e.path === '/v1/runs');
    const started = await request('POST', route?.path as string, { definitionId, input: {} });
    expect(started.status).toBe(201);
    return started.body;
  };

  beforeAll(async () => {
    engine = new Engine({ store: createInMemoryEventStore(), bus });
    const check = async (ctx: StepContext) => {
      if (checked.has(ctx.runId)) return { ok: true };
      checked.add(ctx.runId);
      throw new TerminalError('the ledger was down', 'LEDGER.DOWN');
    };
    worker = createWorker({ name: 'walk-w', bus, handlers: { check, pay: async () => ({ paid: true }) } });
    await worker.start();
    await engine.start();
    await engine.definitions.register(definition('walk-fail', 'fail'), 'test', 'default');
    await engine.definitions.register(definition('walk-escalate', 'escalate'), 'test', 'default');
    app = await createHttpApp({ runs: engine, keys: KEYS });
  });

  afterAll(async () => {
    await worker.stop();
    await engine.stop();
    await app.close();
  });

  it('through a failure, a re-drive and an approval to completion', async () => {
    const failed = await waitUntil(await start('walk-fail'), (run) => run.status === 'failed');
    const redriven = await follow(failed, 'redrive');
    expect(redriven.status).toBe(200);
    const gate = await waitUntil(redriven.body, (run) => stepStatus(run, 'gate') === 'waiting_approval');
    const approved = await follow(gate, 'approve');
    expect(approved.status).toBe(200);
    const done = await waitUntil(approved.body, (run) => run.status === 'completed');
    expect((done.run.steps as Json[]).map((s) => s.status)).toEqual(['completed', 'completed', 'completed']);
    const offered = (done.agent_contract.next_actions as Json[]).map((a) => a.action);
    expect(offered).toEqual(['get_run', 'get_history']);
    const history = (await follow(done, 'get_history')).body.events as Json[];
    expect(history.map((e) => e.type)).toEqual(expect.arrayContaining(['RunReset', 'StepApproved']));
    expect(history.find((e) => e.type === 'RunReset')?.data.reason).toBe('agent: reason given');
  });

  it('through a failure an operator must repair, a retry and an approval', async () => {
    const stuck = await waitUntil(await start('walk-escalate'), (run) => run.status === 'needs_operator');
    const offered = (stuck.agent_contract.next_actions as Json[]).map((a) => a.action);
    expect(offered).toEqual(expect.arrayContaining(['retry', 'skip', 'compensate', 'cancel']));
    expect(offered).not.toContain('redrive');
    const retried = await follow(stuck, 'retry');
    expect(retried.status).toBe(200);
    const gate = await waitUntil(retried.body, (run) => stepStatus(run, 'gate') === 'waiting_approval');
    const done = await waitUntil((await follow(gate, 'approve')).body, (run) => run.status === 'completed');
    expect(done.run.status).toBe('completed');
  });

  it('answers a refused action with what the run allows now, not a generic hint', async () => {
    const gate = await waitUntil(
      (await follow(await waitUntil(await start('walk-fail'), (r) => r.status === 'failed'), 'redrive')).body,
      (run) => stepStatus(run, 'gate') === 'waiting_approval',
    );
    await follow(gate, 'approve');
    // A second agent acts on the same stale answer: the gate is decided, and the refusal says what is left.
    const stale = await follow(gate, 'approve');
    expect(stale.status).toBe(409);
    expect(stale.body.error.code).toBe('STEP.ALREADY_TERMINAL');
    const now = (stale.body.agent_contract.next_actions as Json[]).map((a) => a.action);
    expect(now).toEqual(expect.arrayContaining(['get_run', 'get_history']));
    expect(now).not.toContain('approve');
  });

  it('lists in discovery every route of the OpenAPI document, every document, and advice for every error code', async () => {
    const discovery = (await app.nest.inject({ method: 'GET', url: '/.well-known/agent.json' })).json() as Json;
    const listed = new Set((discovery.endpoints as Json[]).map((e) => `${String(e.method).toLowerCase()} ${e.path}`));
    const documented = Object.values(discovery.documents as Record<string, string>);
    for (const [path, operations] of Object.entries(app.openapi.paths as Record<string, Json>))
      for (const method of Object.keys(operations)) {
        if (documented.includes(path) || ['/healthz', '/.well-known/agent.json', '/mcp'].includes(path)) continue;
        expect(listed).toContain(`${method} ${path}`);
      }
    for (const path of documented) expect((await app.nest.inject({ method: 'GET', url: path })).statusCode).toBe(200);
    const asyncapi = await app.nest.inject({ method: 'GET', url: discovery.documents.asyncapi as string });
    expect(asyncapi.headers['content-type']).toMatch(/^application\/yaml/);
    expect(asyncapi.body).toMatch(/^asyncapi: 3/);
    const codes = discovery.errors.codes as Json[];
    for (const code of ['RUN.NOT_FOUND', 'AUTH.FORBIDDEN', 'STORE.UNAVAILABLE', 'INTERNAL'])
      expect(codes.find((c) => c.code === code)?.advice).toEqual(expect.any(String));
    for (const entry of codes) expect(entry.retryable).toBe(entry.status === 503 || entry.status === 500);
    expect(codes.map((c) => c.code)).not.toContain('CLI.USAGE');
  });
});
