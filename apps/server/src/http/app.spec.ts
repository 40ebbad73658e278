import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { createInMemoryBus } from '@orchestron/bus';
import { parseDefinitionText } from '@orchestron/definitions';
import { createInMemoryEventStore } from '@orchestron/event-store';
import { createOnboardingWorkers } from '@orchestron/example-workers';
import { createPolicyGovernance, Engine } from '@orchestron/runtime';
import type { Worker } from '@orchestron/worker-sdk';
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.ts';

const ADMIN = 'admin-key-0123456789';
const AUDITOR = 'auditor-key-0123456789';
const onboarding = parseDefinitionText(readFileSync(new URL('../../../../examples/employee-onboarding.yaml', import.meta.url), 'utf8'));
const policy = { name: 'onboarding.cedar', text: readFileSync(new URL('../../../../examples/policies/onboarding.cedar', import.meta.url), 'utf8') };

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('the HTTP API', () => {
  let engine: Engine;
  let app: FastifyInstance;
  let workers: Worker[];

  beforeEach(async () => {
    const bus = createInMemoryBus();
    engine = new Engine({ store: createInMemoryEventStore(), bus, governance: createPolicyGovernance([policy]) });
    workers = createOnboardingWorkers({ bus, workMs: 0 });
    for (const w of workers) await w.start();
    await engine.start();
    await engine.definitions.register(onboarding, 'test');
    app = buildApp({ engine, keys: [{ key: ADMIN, role: 'admin', name: 'root' }, { key: AUDITOR, role: 'auditor', name: 'audit' }] });
  });

  afterEach(async () => {
    for (const w of workers) await w.stop();
    await engine.stop();
    await app.close();
  });

  const call = async (method: 'GET' | 'POST', url: string, body?: unknown, key: string | null = ADMIN) => {
    const res = await app.inject({ method, url, ...(body !== undefined ? { payload: body as Json } : {}), headers: key ? { authorization: `Bearer ${key}` } : {} });
    return { status: res.statusCode, body: res.json() as Json };
  };

  const waitFor = async (runId: string, statuses: string[]): Promise<Json> => {
    for (let i = 0; i < 400; i++) {
      const { body } = await call('GET', `/v1/runs/${runId}`);
      if (statuses.includes(body.run.status) || body.run.steps.some((s: Json) => statuses.includes(`step:${s.id}:${s.status}`))) return body.run;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`run ${runId} never reached ${statuses.join('|')}`);
  };

  it('refuses a call without a key with 401 and an agent_contract, and a wrong role with 403', async () => {
    const anonymous = await call('GET', '/v1/runs', undefined, null);
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error.code).toBe('AUTH.UNAUTHENTICATED');
    expect(anonymous.body.agent_contract.next_actions.length).toBeGreaterThan(0);
    const auditor = await call('POST', '/v1/runs', { definitionId: 'employee-onboarding', input: { email: 'a@example.com' } }, AUDITOR);
    expect(auditor.status).toBe(403);
    expect(auditor.body.error.code).toBe('AUTH.FORBIDDEN');
    expect((await call('GET', '/healthz', undefined, null)).status).toBe(200);
    expect((await call('GET', '/.well-known/agent.json', undefined, null)).status).toBe(200);
  });

  it('runs the onboarding example to completion and serves its history', async () => {
    const started = await call('POST', '/v1/runs', { definitionId: 'employee-onboarding', input: { email: 'a@example.com' } });
    expect(started.status).toBe(201);
    const run = await waitFor(started.body.run.id, ['completed', 'failed', 'compensated']);
    expect(run.status).toBe('completed');
    expect(run.steps.find((s: Json) => s.id === 'budget-approval').status).toBe('skipped');
    const history = await call('GET', `/v1/runs/${run.id}/events`, undefined, AUDITOR);
    expect(history.body.events[0].type).toBe('RunStarted');
    expect(history.body.events.at(-1).type).toBe('RunCompleted');
  });

  it('compensates create-account when create-workspace always fails', async () => {
    const started = await call('POST', '/v1/runs', { definitionId: 'employee-onboarding', input: { email: 'a@example.com', simulate: { 'create-workspace': 'fail-terminal' } } });
    const run = await waitFor(started.body.run.id, ['completed', 'failed', 'compensated']);
    expect(run.status).toBe('compensated');
    const types = (await call('GET', `/v1/runs/${run.id}/events`)).body.events.map((e: Json) => `${e.type}:${e.data.stepId ?? ''}`);
    expect(types).toContain('CompensationCompleted:create-account');
  });

  it('waits at the approval gate until an operator approves, and offers approve in the agent_contract', async () => {
    const started = await call('POST', '/v1/runs', { definitionId: 'employee-onboarding', input: { email: 'm@example.com', manager: true } });
    const waiting = await waitFor(started.body.run.id, ['step:budget-approval:waiting_approval']);
    const offered = (await call('GET', `/v1/runs/${waiting.id}`)).body.agent_contract.next_actions.map((a: Json) => a.action);
    expect(offered).toContain('approve');
    const approved = await call('POST', `/v1/runs/${waiting.id}/actions/approve`, { stepId: 'budget-approval', reason: 'ok' });
    expect(approved.status).toBe(200);
    expect((await waitFor(waiting.id, ['completed', 'failed', 'compensated'])).status).toBe('completed');
    const again = await call('POST', `/v1/runs/${waiting.id}/actions/approve`, { stepId: 'budget-approval' });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('RUN.ALREADY_TERMINAL');
  });

  it('shows a governance denial with the policy id and reason', async () => {
    const started = await call('POST', '/v1/runs', { definitionId: 'employee-onboarding', input: { email: 'x@blocked.example' } });
    const run = await waitFor(started.body.run.id, ['completed', 'failed', 'compensated']);
    const step = run.steps.find((s: Json) => s.id === 'create-account');
    expect(step.error.code).toBe('GOVERNANCE.DENIED');
    expect(step.error.message).toContain('blocked-domain');
  });

  it('rejects an inline definition with a cycle, naming the steps, and a bad input naming the field', async () => {
    const cyclic = await call('POST', '/v1/runs', { definition: { id: 'loop', version: 1, steps: { a: { worker: 'w', needs: ['b'] }, b: { worker: 'w', needs: ['a'] } } }, input: {} });
    expect(cyclic.status).toBe(400);
    expect(cyclic.body.error.code).toBe('DEFINITION.INVALID');
    expect(JSON.stringify(cyclic.body.error.details.issues)).toMatch(/cycle: [ab] → [ab] → [ab]/);
    const badInput = await call('POST', '/v1/runs', { definitionId: 'employee-onboarding', input: { name: 'no email' } });
    expect(badInput.status).toBe(400);
    expect(badInput.body.error.code).toBe('RUN.INPUT_INVALID');
    expect(JSON.stringify(badInput.body.error.details.issues)).toContain('/input/email');
  });

  it('returns the same run for a repeated idempotency key, and 409 for the key with another input', async () => {
    const body = { definitionId: 'employee-onboarding', idempotencyKey: 'k-1', input: { email: 'a@example.com' } };
    const first = await call('POST', '/v1/runs', body);
    const second = await call('POST', '/v1/runs', body);
    expect(first.status).toBe(201);
    expect(second.status).toBe(200);
    expect(second.body.run.id).toBe(first.body.run.id);
    const other = await call('POST', '/v1/runs', { ...body, input: { email: 'b@example.com' } });
    expect(other.status).toBe(409);
  });

  it('answers unknown runs with 404 and bad actions with 400', async () => {
    expect((await call('GET', '/v1/runs/nope')).body.error.code).toBe('RUN.NOT_FOUND');
    expect((await call('POST', '/v1/runs/nope/actions/approve', { stepId: 'x' })).status).toBe(404);
    expect((await call('POST', '/v1/runs/nope/actions/explode', {})).status).toBe(400);
  });
});
