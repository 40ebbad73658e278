import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createInMemoryBus } from '@orchestron/bus';
import { createInMemoryEventStore } from '@orchestron/event-store';
import { createExampleWorkers } from '@orchestron/example-workers';
import { createPolicyGovernance, Engine } from '@orchestron/runtime';
import { eventually } from '@orchestron/runtime/testing';
import type { Worker } from '@orchestron/worker-sdk';
import { createHttpApp } from './app.ts';
import type { HttpApp } from './app.ts';

const KEYS = [
  { key: 'acme-operator-0123456789', role: 'operator', name: 'ann', tenant: 'acme' },
  { key: 'acme-auditor-0123456789', role: 'auditor', name: 'al', tenant: 'acme' },
  { key: 'globex-operator-0123456789', role: 'operator', name: 'gus', tenant: 'globex' },
] as const;
const [OPS, AUDITOR, STRANGER] = KEYS.map((k) => k.key);
const DEFINITION = {
  id: 'schema-retry',
  version: 1,
  onFailure: 'escalate',
  steps: {
    notify: {
      worker: 'chat',
      inputSchema: {
        type: 'object',
        required: ['message'],
        properties: { message: { type: 'string', minLength: 1 }, simulate: { type: 'object' } },
      },
    },
  },
};

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe("POST /v1/runs/:id/actions/retry against the step's inputSchema", () => {
  let engine: Engine;
  let app: HttpApp;
  let workers: Worker[];
  const call = async (method: 'GET' | 'POST', url: string, key: string | undefined, body?: unknown) => {
    const res = await app.nest.inject({
      method,
      url,
      headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { payload: JSON.stringify(body) } : {}),
    });
    return { status: res.statusCode, body: res.json() as Json };
  };

  beforeAll(async () => {
    const bus = createInMemoryBus();
    engine = new Engine({ store: createInMemoryEventStore(), bus, governance: createPolicyGovernance([]) });
    workers = createExampleWorkers({ bus, workMs: 0, workers: ['chat'] });
    for (const w of workers) await w.start();
    await engine.start();
    app = await createHttpApp({ runs: engine, keys: KEYS });
  });
  afterAll(async () => {
    await app.close();
    for (const w of workers) await w.stop();
    await engine.stop();
  });

  it('refuses an edited input that does not fit, with every issue, and retries with one that does', async () => {
    const registered = await call('POST', '/v1/definitions', OPS, DEFINITION);
    expect(registered.status).toBe(201);
    expect(registered.body.definition.steps.notify.inputSchema).toEqual(DEFINITION.steps.notify.inputSchema);
    const started = await call('POST', '/v1/runs', OPS, {
      definitionId: 'schema-retry',
      input: { message: 'hi', simulate: { notify: 'fail-terminal' } },
    });
    const runId = started.body.run.id as string;
    const retry = `/v1/runs/${runId}/actions/retry`;
    await eventually('the run waits for an operator', async () =>
      (await call('GET', `/v1/runs/${runId}`, OPS)).body.run.status === 'needs_operator' ? true : undefined,
    );
    const refused = await call('POST', retry, OPS, { stepId: 'notify', input: { message: '', simulate: {} } });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({
      code: 'RUN.INPUT_INVALID',
      details: {
        stepId: 'notify',
        issues: [{ path: '/input/message', message: 'must NOT have fewer than 1 characters' }],
      },
    });
    const missing = await call('POST', retry, OPS, { stepId: 'notify', input: 'not an object' });
    expect(missing.body.error.details.issues).toEqual([{ path: '/input', message: 'must be object' }]);
    expect((await call('GET', `/v1/runs/${runId}`, OPS)).body.run.status).toBe('needs_operator');
    expect((await call('POST', retry, AUDITOR, { stepId: 'notify', input: { message: 'x' } })).status).toBe(403);
    expect((await call('POST', retry, STRANGER, { stepId: 'notify', input: { message: 'x' } })).status).toBe(404);
    const ok = await call('POST', retry, OPS, { stepId: 'notify', input: { message: 'hello', simulate: {} } });
    expect(ok.status).toBe(200);
    await eventually('the run completes', async () =>
      (await call('GET', `/v1/runs/${runId}`, OPS)).body.run.status === 'completed' ? true : undefined,
    );
  });
});
