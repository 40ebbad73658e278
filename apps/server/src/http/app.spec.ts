import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { createInMemoryBus } from '@orchestron/bus';
import { parseDefinitionText } from '@orchestron/definitions';
import { createInMemoryEventStore } from '@orchestron/event-store';
import { createOnboardingWorkers } from '@orchestron/example-workers';
import { createPolicyGovernance, Engine } from '@orchestron/runtime';
import type { Worker } from '@orchestron/worker-sdk';
import { createHttpApp } from './app.ts';
import type { HttpApp } from './app.ts';

const ADMIN = 'admin-key-0123456789';
const AUDITOR = 'auditor-key-0123456789';
const PRODUCER = 'producer-key-0123456789';
const KEYS = [
  { key: ADMIN, role: 'admin', name: 'root' },
  { key: AUDITOR, role: 'auditor', name: 'audit' },
  { key: PRODUCER, role: 'producer', name: 'shop' },
] as const;
const onboarding = parseDefinitionText(
  readFileSync(new URL('../../../../examples/employee-onboarding.yaml', import.meta.url), 'utf8'),
);
const policy = {
  name: 'onboarding.cedar',
  text: readFileSync(new URL('../../../../examples/policies/onboarding.cedar', import.meta.url), 'utf8'),
};

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Every route of the API, as the OpenAPI document must list it. */
const ROUTES: readonly (readonly [string, string])[] = [
  ['get', '/healthz'],
  ['get', '/.well-known/agent.json'],
  ['get', '/v1/schemas/definition.json'],
  ['get', '/v1/openapi.json'],
  ['get', '/v1/asyncapi.yaml'],
  ['post', '/mcp'],
  ['post', '/v1/runs'],
  ['get', '/v1/runs'],
  ['get', '/v1/runs/{id}'],
  ['get', '/v1/runs/{id}/wait'],
  ['get', '/v1/runs/{id}/events'],
  ['post', '/v1/runs/{id}/actions/{action}'],
  ['post', '/v1/runs/{id}/fork'],
  ['post', '/v1/events'],
  ['post', '/v1/schedules'],
  ['get', '/v1/schedules'],
  ['get', '/v1/schedules/{id}'],
  ['post', '/v1/schedules/{id}/pause'],
  ['post', '/v1/schedules/{id}/resume'],
  ['delete', '/v1/schedules/{id}'],
  ['post', '/v1/definitions'],
  ['get', '/v1/definitions'],
  ['get', '/v1/definitions/{id}'],
  ['post', '/v1/definitions/validate'],
  ['get', '/metrics'],
  ['post', '/v1/keys'],
  ['get', '/v1/keys'],
  ['post', '/v1/keys/{id}/revoke'],
  ['get', '/v1/notifications'],
  ['get', '/v1/dead-letters'],
  ['get', '/v1/held-steps'],
  ['get', '/v1/locks'],
  ['post', '/v1/dead-letters/replay'],
  ['get', '/v1/audit/events'],
  ['get', '/v1/audit/checkpoint'],
  ['get', '/v1/audit/export'],
  ['get', '/v1/audit/verify'],
  ['get', '/v1/audit/proofs/{eventId}'],
  ['get', '/v1/events/stream'],
  ['get', '/v1/whoami'],
];
const PUBLIC = new Set([
  '/healthz',
  '/.well-known/agent.json',
  '/v1/schemas/definition.json',
  '/v1/openapi.json',
  '/v1/asyncapi.yaml',
]);

describe('the HTTP API', () => {
  let engine: Engine;
  let app: HttpApp;
  let workers: Worker[];

  beforeEach(async () => {
    const bus = createInMemoryBus();
    engine = new Engine({ store: createInMemoryEventStore(), bus, governance: createPolicyGovernance([policy]) });
    workers = createOnboardingWorkers({ bus, workMs: 0 });
    for (const w of workers) await w.start();
    await engine.start();
    await engine.definitions.register(onboarding, 'test');
    app = await createHttpApp({
      runs: engine,
      keys: KEYS,
      metrics: {
        contentType: 'text/plain; version=0.0.4; charset=utf-8',
        render: async () => `orchestron_runs_started_total ${(await engine.listRuns({})).length}\n`,
      },
    });
  });

  afterEach(async () => {
    for (const w of workers) await w.stop();
    await engine.stop();
    await app.close();
  });

  const call = async (method: 'GET' | 'POST', url: string, body?: unknown, key: string | null = ADMIN) => {
    const res = await app.nest.inject({
      method,
      url,
      ...(body !== undefined ? { payload: body as Json } : {}),
      headers: key ? { authorization: `Bearer ${key}` } : {},
    });
    const json = String(res.headers['content-type']).startsWith('application/json');
    return { status: res.statusCode, body: (json ? res.json() : { text: res.body }) as Json };
  };

  const waitFor = async (runId: string, statuses: string[]): Promise<Json> => {
    for (let i = 0; i < 400; i++) {
      const { body } = await call('GET', `/v1/runs/${runId}`);
      if (
        statuses.includes(body.run.status) ||
        body.run.steps.some((s: Json) => statuses.includes(`step:${s.id}:${s.status}`))
      )
        return body.run;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`run ${runId} never reached ${statuses.join('|')}`);
  };

  const discoverContract = {
    retryable: false,
    next_actions: [
      { action: 'discover', method: 'GET', endpoint: '/.well-known/agent.json', description: 'what this API offers' },
    ],
  };

  it('refuses a call without a key with 401 and an agent_contract', async () => {
    for (const key of [null, 'not-a-key-0123456789']) {
      const refused = await call('GET', '/v1/runs', undefined, key);
      expect(refused.status).toBe(401);
      expect(refused.body.error).toEqual({
        code: 'AUTH.UNAUTHENTICATED',
        message: expect.stringContaining('Authorization: Bearer <api key>'),
        retryable: false,
      });
      expect(refused.body.agent_contract).toEqual(discoverContract);
    }
  });

  it('refuses a role the route does not admit with 403 and an agent_contract, and serves health and discovery without a key', async () => {
    const auditor = await call(
      'POST',
      '/v1/runs',
      { definitionId: 'employee-onboarding', input: { email: 'a@example.com' } },
      AUDITOR,
    );
    expect(auditor.status).toBe(403);
    expect(auditor.body.error).toEqual({
      code: 'AUTH.FORBIDDEN',
      message: 'role auditor may not call this; it needs one of producer, operator, admin',
      retryable: false,
    });
    expect(auditor.body.agent_contract).toEqual(discoverContract);
    expect((await call('GET', '/v1/runs/x/events', undefined, PRODUCER)).status).toBe(403);
    for (const path of PUBLIC) expect((await call('GET', path, undefined, null)).status).toBe(200);
    expect((await call('GET', '/healthz', undefined, null)).body).toEqual({
      status: 'ok',
      agent_contract: discoverContract,
    });
  });

  it('answers an unknown route with 404 ROUTE.NOT_FOUND and an agent_contract', async () => {
    const missing = await call('GET', '/v1/nothing-here', undefined, null);
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({
      error: { code: 'ROUTE.NOT_FOUND', message: 'no route GET /v1/nothing-here', retryable: false },
      agent_contract: discoverContract,
    });
  });

  it('runs the onboarding example to completion and serves its history', async () => {
    const started = await call(
      'POST',
      '/v1/runs',
      { definitionId: 'employee-onboarding', input: { email: 'a@example.com' } },
      PRODUCER,
    );
    expect(started.status).toBe(201);
    expect(started.body.run.startedBy).toBe('producer:shop');
    const run = await waitFor(started.body.run.id, ['completed', 'failed', 'compensated']);
    expect(run.status).toBe('completed');
    expect(run.steps.find((s: Json) => s.id === 'budget-approval').status).toBe('skipped');
    const history = await call('GET', `/v1/runs/${run.id}/events`, undefined, AUDITOR);
    expect(history.body.events[0].type).toBe('RunStarted');
    expect(history.body.events.at(-1).type).toBe('RunCompleted');
    const listed = await call(
      'GET',
      '/v1/runs?status=completed&definition=employee-onboarding&limit=5',
      undefined,
      AUDITOR,
    );
    expect(listed.body.runs.map((r: Json) => r.id)).toEqual([run.id]);
    expect((await call('GET', '/v1/runs?status=failed')).body.runs).toEqual([]);
  });

  it('compensates create-account when create-workspace always fails', async () => {
    const started = await call('POST', '/v1/runs', {
      definitionId: 'employee-onboarding',
      input: { email: 'a@example.com', simulate: { 'create-workspace': 'fail-terminal' } },
    });
    const run = await waitFor(started.body.run.id, ['completed', 'failed', 'compensated']);
    expect(run.status).toBe('compensated');
    const types = (await call('GET', `/v1/runs/${run.id}/events`)).body.events.map(
      (e: Json) => `${e.type}:${e.data.stepId ?? ''}`,
    );
    expect(types).toContain('CompensationCompleted:create-account');
  });

  it('waits at the approval gate until an operator approves, and offers approve in the agent_contract', async () => {
    const started = await call('POST', '/v1/runs', {
      definitionId: 'employee-onboarding',
      input: { email: 'm@example.com', manager: true },
    });
    const waiting = await waitFor(started.body.run.id, ['step:budget-approval:waiting_approval']);
    const offered = (await call('GET', `/v1/runs/${waiting.id}`)).body.agent_contract.next_actions.map(
      (a: Json) => a.action,
    );
    expect(offered).toContain('approve');
    const approved = await call('POST', `/v1/runs/${waiting.id}/actions/approve`, {
      stepId: 'budget-approval',
      reason: 'ok',
    });
    expect(approved.status).toBe(200);
    expect((await waitFor(waiting.id, ['completed', 'failed', 'compensated'])).status).toBe('completed');
    const again = await call('POST', `/v1/runs/${waiting.id}/actions/approve`, { stepId: 'budget-approval' });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('RUN.ALREADY_TERMINAL');
  });

  it('shows a governance denial with the policy id and reason', async () => {
    const started = await call('POST', '/v1/runs', {
      definitionId: 'employee-onboarding',
      input: { email: 'x@blocked.example' },
    });
    const run = await waitFor(started.body.run.id, ['completed', 'failed', 'compensated']);
    const step = run.steps.find((s: Json) => s.id === 'create-account');
    expect(step.error.code).toBe('GOVERNANCE.DENIED');
    expect(step.error.message).toContain('blocked-domain');
  });

  it('rejects an inline definition with a cycle, naming the steps, and a bad input naming the field', async () => {
    const cyclic = await call('POST', '/v1/runs', {
      definition: {
        id: 'loop',
        version: 1,
        steps: { a: { worker: 'w', needs: ['b'] }, b: { worker: 'w', needs: ['a'] } },
      },
      input: {},
    });
    expect(cyclic.status).toBe(400);
    expect(cyclic.body.error.code).toBe('DEFINITION.INVALID');
    expect(JSON.stringify(cyclic.body.error.details.issues)).toMatch(/cycle: [ab] → [ab] → [ab]/);
    const badInput = await call('POST', '/v1/runs', {
      definitionId: 'employee-onboarding',
      input: { name: 'no email' },
    });
    expect(badInput.status).toBe(400);
    expect(badInput.body.error.code).toBe('RUN.INPUT_INVALID');
    expect(JSON.stringify(badInput.body.error.details.issues)).toContain('/input/email');
  });

  it('fails DTO validation with 400 REQUEST.INVALID naming the field, before anything reaches the RunService', async () => {
    const cases: [string, string, unknown, string, string][] = [
      [
        'POST',
        '/v1/runs',
        { definitionId: 'employee-onboarding', idempotencyKey: '', input: {} },
        'idempotencyKey',
        '"idempotencyKey" must be a string of 1 to 200 characters',
      ],
      [
        'POST',
        '/v1/runs',
        { definitionId: 'employee-onboarding', idempotencyKey: 'k'.repeat(201) },
        'idempotencyKey',
        '"idempotencyKey" must be a string of 1 to 200 characters',
      ],
      [
        'POST',
        '/v1/runs',
        { definitionId: 'employee-onboarding', definitionVersion: 1.5 },
        'definitionVersion',
        '"definitionVersion" must be "latest" or a version number (a positive integer)',
      ],
      ['POST', '/v1/runs', { input: {} }, 'definitionId', 'give "definition" (inline) or "definitionId"'],
      [
        'POST',
        '/v1/runs',
        { definitionId: 'employee-onboarding', colour: 'blue' },
        'colour',
        '"colour" is not a field of this request',
      ],
      ['GET', '/v1/runs?limit=0', undefined, 'limit', 'limit must be an integer from 1 to 10000'],
      ['GET', '/v1/runs?limit=ten', undefined, 'limit', 'limit must be an integer from 1 to 10000'],
      [
        'GET',
        '/v1/runs?status=sleeping',
        undefined,
        'status',
        'status must be one of running, paused, needs_operator, compensating, completed, failed, compensated, cancelled',
      ],
      [
        'GET',
        '/v1/definitions/employee-onboarding?version=latest',
        undefined,
        'version',
        '"version" must be a positive integer',
      ],
      [
        'POST',
        '/v1/runs/r-1/actions/explode',
        {},
        'action',
        'unknown action "explode"; use one of approve, reject, pause, resume, retry, skip, compensate, cancel, redrive, raise-budget',
      ],
      ['POST', '/v1/runs/r-1/actions/approve', { stepId: 7 }, 'stepId', '"stepId" must be a string'],
      ['POST', '/v1/runs/r-1/actions/approve', { reason: 'no step' }, 'stepId', '"stepId" is required'],
      [
        'POST',
        '/v1/runs/r-1/actions/skip',
        { stepId: 'a' },
        'output',
        '"output" is required: the output the skipped step would have produced (null for none)',
      ],
    ];
    for (const [method, url, body, field, message] of cases) {
      const res = await call(method as 'GET' | 'POST', url, body);
      expect({ url, status: res.status, error: res.body.error }).toEqual({
        url,
        status: 400,
        error: { code: 'REQUEST.INVALID', message, retryable: false, details: { field } },
      });
      expect(res.body.agent_contract).toEqual(discoverContract);
    }
    const notAnObject = await call('POST', '/v1/runs', ['employee-onboarding']);
    expect(notAnObject.body.error).toEqual({
      code: 'REQUEST.INVALID',
      message: 'the body must be a JSON object',
      retryable: false,
      details: { field: 'body' },
    });
    expect(await engine.listRuns({})).toEqual([]);
  });

  it('answers a body Fastify cannot parse in the same error shape', async () => {
    const headers = { authorization: `Bearer ${ADMIN}` };
    const broken = await app.nest.inject({
      method: 'POST',
      url: '/v1/runs',
      headers: { ...headers, 'content-type': 'application/json' },
      payload: '{"definitionId":',
    });
    expect(broken.statusCode).toBe(400);
    expect(broken.json()).toMatchObject({
      error: { code: 'REQUEST.INVALID', retryable: false },
      agent_contract: discoverContract,
    });
    const form = await app.nest.inject({
      method: 'POST',
      url: '/v1/runs',
      headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'definitionId=x',
    });
    expect(form.statusCode).toBe(415);
    expect(form.json().error.code).toBe('REQUEST.UNSUPPORTED_MEDIA_TYPE');
    const huge = await app.nest.inject({
      method: 'POST',
      url: '/v1/definitions/validate',
      headers: { ...headers, 'content-type': 'application/json' },
      payload: JSON.stringify({ pad: 'x'.repeat(4 * 1024 * 1024) }),
    });
    expect(huge.statusCode).toBe(413);
    expect(huge.json().error.code).toBe('REQUEST.TOO_LARGE');
  });

  it('takes "output": null as a real output for skip, unlike a missing one', async () => {
    const started = await call('POST', '/v1/runs', {
      definitionId: 'employee-onboarding',
      input: { email: 'm@example.com', manager: true },
    });
    const waiting = await waitFor(started.body.run.id, ['step:budget-approval:waiting_approval']);
    const skipped = await call('POST', `/v1/runs/${waiting.id}/actions/skip`, {
      stepId: 'create-account',
      output: null,
      reason: 'done by hand',
    });
    expect(skipped.status).toBe(409);
    expect(skipped.body.error.code).not.toBe('REQUEST.INVALID');
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
    expect((await call('GET', '/v1/runs/nope/events')).status).toBe(404);
    expect((await call('POST', '/v1/runs/nope/actions/approve', { stepId: 'x' })).status).toBe(404);
    expect((await call('POST', '/v1/runs/nope/actions/explode', {})).status).toBe(400);
  });

  it('registers, lists, reads and validates definitions', async () => {
    const definition = { id: 'tiny', version: 1, steps: { only: { worker: 'mail' } } };
    expect((await call('POST', '/v1/definitions', definition)).status).toBe(201);
    expect((await call('POST', '/v1/definitions', definition)).status).toBe(200);
    expect(
      (await call('GET', '/v1/definitions', undefined, PRODUCER)).body.definitions.map((d: Json) => d.id).sort(),
    ).toEqual(['employee-onboarding', 'tiny']);
    expect((await call('GET', '/v1/definitions/tiny?version=1')).body.definition.id).toBe('tiny');
    expect((await call('GET', '/v1/definitions/tiny?version=2')).body.error.code).toBe('DEFINITION.NOT_FOUND');
    const checked = await call(
      'POST',
      '/v1/definitions/validate',
      { id: 'x', version: 1, steps: { a: { worker: 'w', needs: ['ghost'] } } },
      AUDITOR,
    );
    expect(checked.status).toBe(200);
    expect(checked.body.valid).toBe(false);
    expect(JSON.stringify(checked.body.issues)).toContain('ghost');
  });

  it('serves Prometheus metrics to operators, auditors and admins only', async () => {
    const res = await app.nest.inject({
      method: 'GET',
      url: '/metrics',
      headers: { authorization: `Bearer ${AUDITOR}` },
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(res.body).toBe('orchestron_runs_started_total 0\n');
    expect((await call('GET', '/metrics', undefined, PRODUCER)).body.error.code).toBe('AUTH.FORBIDDEN');
    expect((await call('GET', '/metrics', undefined, null)).status).toBe(401);
    const without = await createHttpApp({ runs: engine, keys: KEYS });
    try {
      expect(
        (
          await without.nest.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${ADMIN}` } })
        ).json().error.code,
      ).toBe('ROUTE.NOT_FOUND');
    } finally {
      await without.close();
    }
  });

  it('publishes an OpenAPI 3 document listing every route with bearer auth, linked from discovery', async () => {
    const res = await app.nest.inject({ method: 'GET', url: '/v1/openapi.json' });
    expect(res.statusCode).toBe(200);
    const doc = JSON.parse(res.body) as Json;
    expect(doc.openapi).toMatch(/^3\.\d+\.\d+$/);
    expect(typeof doc.info.title).toBe('string');
    expect(typeof doc.info.version).toBe('string');
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    const listed = Object.entries(doc.paths as Json)
      .flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method} ${path}`))
      .sort();
    expect(listed).toEqual(ROUTES.map(([method, path]) => `${method} ${path}`).sort());
    for (const [method, path] of ROUTES) {
      const op = doc.paths[path][method];
      expect({ path, secured: op.security?.some((s: Json) => 'bearer' in s) ?? false }).toEqual({
        path,
        secured: !PUBLIC.has(path),
      });
      expect(Object.keys(op.responses).length).toBeGreaterThan(0);
      for (const name of [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]))
        expect(op.parameters.some((p: Json) => p.in === 'path' && p.name === name && p.required)).toBe(true);
    }
    const refs = [...res.body.matchAll(/"\$ref":"#\/components\/schemas\/(\w+)"/g)].map((m) => m[1] as string);
    for (const ref of refs) expect(doc.components.schemas[ref]).toBeDefined();
    expect(doc.components.schemas.StartRunBody.properties.idempotencyKey).toMatchObject({
      type: 'string',
      minLength: 1,
      maxLength: 200,
    });
    const discovery = await call('GET', '/.well-known/agent.json', undefined, null);
    expect(discovery.body.documents.openapi).toBe('/v1/openapi.json');
  });

  it('answers in the shapes its OpenAPI document declares', async () => {
    const ajv = new Ajv({ strict: false });
    addFormats.default(ajv);
    ajv.addSchema(app.openapi, 'openapi');
    const conforms = (schema: string, body: unknown): unknown => {
      const validate = ajv.getSchema(`openapi#/components/schemas/${schema}`);
      if (!validate) throw new Error(`no schema ${schema}`);
      return validate(body) ? 'ok' : validate.errors;
    };
    const started = await call('POST', '/v1/runs', {
      definitionId: 'employee-onboarding',
      input: { email: 'm@example.com', manager: true },
    });
    expect(conforms('RunEnvelope', started.body)).toBe('ok');
    const run = await waitFor(started.body.run.id, ['step:budget-approval:waiting_approval']);
    expect(conforms('RunEnvelope', (await call('GET', `/v1/runs/${run.id}`)).body)).toBe('ok');
    expect(conforms('RunListEnvelope', (await call('GET', '/v1/runs')).body)).toBe('ok');
    expect(conforms('EventsEnvelope', (await call('GET', `/v1/runs/${run.id}/events`)).body)).toBe('ok');
    expect(conforms('DefinitionListEnvelope', (await call('GET', '/v1/definitions')).body)).toBe('ok');
    expect(conforms('ValidationEnvelope', (await call('POST', '/v1/definitions/validate', {})).body)).toBe('ok');
    expect(conforms('ErrorEnvelope', (await call('GET', '/v1/runs?limit=0')).body)).toBe('ok');
    expect(conforms('ErrorEnvelope', (await call('GET', '/v1/runs', undefined, null)).body)).toBe('ok');
  });

  it('listens on a port and says where', async () => {
    const url = await app.listen('127.0.0.1', 0);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
  });
});
