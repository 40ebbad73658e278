import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { connect } from 'node:net';
import { readFileSync } from 'node:fs';
import { createInMemoryBus } from '@orchestron/bus';
import { parseDefinitionText } from '@orchestron/definitions';
import { createInMemoryEventStore } from '@orchestron/event-store';
import { createOnboardingWorkers } from '@orchestron/example-workers';
import { createPolicyGovernance, Engine } from '@orchestron/runtime';
import type { Worker } from '@orchestron/worker-sdk';
import { createHttpApp } from './app.ts';
import type { HttpApp } from './app.ts';

/* What an attacker with a producer key tried at the edge, each refused with a 4xx that names the limit, and the server still serving after. */

const ADMIN = 'admin-key-0123456789';
const PRODUCER = 'producer-key-0123456789';
const KEYS = [
  { key: ADMIN, role: 'admin', name: 'root' },
  { key: PRODUCER, role: 'producer', name: 'shop' },
] as const;
const onboarding = parseDefinitionText(
  readFileSync(new URL('../../../../examples/employee-onboarding.yaml', import.meta.url), 'utf8'),
);
const policy = {
  name: 'onboarding.cedar',
  text: readFileSync(new URL('../../../../examples/policies/onboarding.cedar', import.meta.url), 'utf8'),
};
const IDENTIFIER_RULE = '1 to 63 characters of a-z, 0-9, - and _, starting with a letter or digit';
const MEGABYTE = 1024 * 1024;

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('limits at the HTTP edge', () => {
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
    app = await createHttpApp({ runs: engine, keys: KEYS });
  });

  afterEach(async () => {
    for (const w of workers) await w.stop();
    await engine.stop();
    await app.close();
  });

  /** Sends the text as it is: a test of the parser must not let a client library re-encode the body. */
  const send = async (method: 'GET' | 'POST', url: string, text?: string, key = PRODUCER) => {
    const res = await app.nest.inject({
      method,
      url,
      headers: {
        authorization: `Bearer ${key}`,
        ...(text !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(text !== undefined ? { payload: text } : {}),
    });
    return { status: res.statusCode, size: res.body.length, body: res.json() as Json };
  };
  const deep = (levels: number): string => `${'['.repeat(levels)}${']'.repeat(levels)}`;

  const startRun = async (): Promise<Json> => {
    const started = await send(
      'POST',
      '/v1/runs',
      JSON.stringify({ definitionId: 'employee-onboarding', input: { email: 'm@example.com', manager: true } }),
    );
    expect(started.status).toBe(201);
    for (let i = 0; i < 400; i++) {
      const { body } = await send('GET', `/v1/runs/${started.body.run.id}`, undefined, ADMIN);
      if (body.run.steps.some((s: Json) => s.id === 'budget-approval' && s.status === 'waiting_approval'))
        return body.run;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error('the run never reached its approval gate');
  };

  it('refuses a body nested 10,000 deep on every route that takes JSON, naming the depth limit', async () => {
    const run = await startRun();
    const bodies: [string, string][] = [
      ['/v1/runs', `{"definitionId":"employee-onboarding","input":${deep(10_000)}}`],
      ['/v1/definitions/validate', `{"id":"x","version":1,"steps":${deep(10_000)}}`],
      [`/v1/runs/${run.id}/actions/skip`, `{"stepId":"budget-approval","output":${deep(10_000)}}`],
    ];
    for (const [url, text] of bodies) {
      const res = await send('POST', url, text, ADMIN);
      expect({ url, status: res.status, error: res.body.error }).toEqual({
        url,
        status: 400,
        error: {
          code: 'REQUEST.INVALID',
          message: 'the body nests deeper than 64 levels',
          retryable: false,
          details: { limit: 'depth', max: 64 },
        },
      });
    }
    expect(
      (await send('POST', '/v1/definitions/validate', `{"id":"x","version":1,"steps":{},"meta":${deep(60)}}`, ADMIN))
        .status,
    ).toBe(200);
    await expectStillServing(run);
  });

  it('refuses numbers JSON.parse reads as Infinity, naming their path', async () => {
    const cases: [string, string, string][] = [
      [
        '/v1/runs',
        '{"definition":{"id":"tiny","version":1e309,"steps":{"a":{"worker":"w"}}}}',
        '$.definition.version is not a finite number',
      ],
      [
        '/v1/runs',
        '{"definitionId":"employee-onboarding","definitionVersion":1e309}',
        '$.definitionVersion is not a finite number',
      ],
      [
        '/v1/runs',
        '{"definitionId":"employee-onboarding","input":{"email":"a@example.com","limits":[1,-1e400]}}',
        '$.input.limits[1] is not a finite number',
      ],
    ];
    for (const [url, text, message] of cases) {
      const res = await send('POST', url, text);
      expect({ status: res.status, error: res.body.error }).toEqual({
        status: 400,
        error: {
          code: 'REQUEST.INVALID',
          message,
          retryable: false,
          details: { limit: 'finite', path: message.split(' ')[0] },
        },
      });
    }
    expect(await engine.listRuns({})).toEqual([]);
  });

  it('refuses prototype keys anywhere, naming the key, and undeclared top-level keys whatever their name', async () => {
    const proto = await send('POST', '/v1/runs', '{"definitionId":"employee-onboarding","__proto__":{"admin":true}}');
    expect(proto.status).toBe(400);
    expect(proto.body.error).toMatchObject({
      code: 'REQUEST.INVALID',
      message: expect.stringContaining('"__proto__" is not allowed'),
      details: { key: '__proto__', path: '$.__proto__' },
    });
    const nested = await send(
      'POST',
      '/v1/definitions/validate',
      '{"id":"x","version":1,"steps":{"a":{"worker":"w","input":{"constructor":{"prototype":{"polluted":1}}}}}}',
    );
    expect(nested.body.error).toMatchObject({
      code: 'REQUEST.INVALID',
      details: { key: 'constructor.prototype', path: '$.steps.a.input.constructor' },
    });
    for (const key of ['prototype', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'colour']) {
      const res = await send(
        'POST',
        '/v1/runs',
        JSON.stringify({ definitionId: 'employee-onboarding', input: { email: 'a@example.com' }, [key]: 'x' }),
      );
      expect({ key, status: res.status, error: res.body.error }).toEqual({
        key,
        status: 400,
        error: {
          code: 'REQUEST.INVALID',
          message: `"${key}" is not a field of this request`,
          retryable: false,
          details: { field: key },
        },
      });
    }
    const action = await send(
      'POST',
      '/v1/runs/r-1/actions/approve',
      JSON.stringify({ stepId: 'a', prototype: {} }),
      ADMIN,
    );
    expect(action.body.error).toMatchObject({
      message: '"prototype" is not a field of this request',
      details: { field: 'prototype' },
    });
    expect(await engine.listRuns({})).toEqual([]);
  });

  it('refuses a 1 MB identifier with the rule and at most 80 characters of it, in a response under 1 KB', async () => {
    const huge = 'a'.repeat(MEGABYTE);
    const cases: [string, string, string | undefined, string][] = [
      ['POST', '/v1/runs', JSON.stringify({ definitionId: huge }), `"definitionId" must be ${IDENTIFIER_RULE}`],
      ['POST', '/v1/runs/r-1/actions/approve', JSON.stringify({ stepId: huge }), `"stepId" must be ${IDENTIFIER_RULE}`],
      ['GET', `/v1/definitions/${huge}`, undefined, `"id" must be ${IDENTIFIER_RULE}`],
      ['GET', `/v1/runs?definition=${huge}`, undefined, `"definition" must be ${IDENTIFIER_RULE}`],
      ['GET', `/v1/runs/${huge}`, undefined, 'path parameter "id" must be 1 to 128 characters'],
      ['GET', `/v1/runs/${huge}/events`, undefined, 'path parameter "id" must be 1 to 128 characters'],
      ['POST', `/v1/runs/${huge}/actions/approve`, '{"stepId":"a"}', 'path parameter "id" must be 1 to 128 characters'],
    ];
    for (const [method, url, text, rule] of cases) {
      const res = await send(method as 'GET' | 'POST', url, text, ADMIN);
      expect({ url: url.slice(0, 40), status: res.status, code: res.body.error.code }).toEqual({
        url: url.slice(0, 40),
        status: 400,
        code: 'REQUEST.INVALID',
      });
      expect(res.body.error.message).toBe(`${rule}; got "${'a'.repeat(80)}…" (${MEGABYTE} characters)`);
      expect(res.size).toBeLessThan(1024);
    }
    const inline = await send(
      'POST',
      '/v1/runs',
      JSON.stringify({ definition: { id: huge, version: 1, steps: { [huge]: { worker: huge } } } }),
    );
    expect(inline.body.error.code).toBe('DEFINITION.INVALID');
    expect(JSON.stringify(inline.body.error.details.issues)).toContain(`(${MEGABYTE} characters)`);
    expect(inline.size).toBeLessThan(4096);
    const route = await send('GET', `/v1/nothing/${huge}`, undefined, ADMIN);
    expect(route.body.error.code).toBe('ROUTE.NOT_FOUND');
    expect(route.size).toBeLessThan(1024);
  });

  it('names the size limit on a body over 4 MiB, and the position of a syntax error', async () => {
    const large = await send('POST', '/v1/definitions/validate', JSON.stringify({ pad: 'x'.repeat(4 * MEGABYTE) }));
    expect(large.status).toBe(413);
    expect(large.body.error).toEqual({
      code: 'REQUEST.TOO_LARGE',
      message: 'the body is larger than the limit of 4194304 bytes (4 MiB)',
      retryable: false,
      details: { limit: 'size', max: 4194304 },
    });
    const broken = await send('POST', '/v1/runs', '{"definitionId":"employee-onboarding",}');
    expect(broken.status).toBe(400);
    expect(broken.body.error.message).toMatch(/^the body is not JSON: .* at position 38/);
    const truncated = await send('POST', '/v1/runs', '{"definitionId":');
    expect(truncated.body.error.message).toBe('the body is not JSON: Unexpected end of JSON input at position 16');
    const empty = await send('POST', '/v1/runs', '');
    expect(empty.status).toBe(400);
  });

  it('answers 408 to a body shorter than its Content-Length, within the request timeout, and keeps serving', async () => {
    const run = await startRun();
    const quick = await createHttpApp({ runs: engine, keys: KEYS, requestTimeoutMs: 300 });
    try {
      const url = new URL(await quick.listen('127.0.0.1', 0));
      const began = Date.now();
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = connect(Number(url.port), url.hostname, () => {
          socket.write(
            `POST /v1/runs HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Bearer ${PRODUCER}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"definiti`,
          );
        });
        let received = '';
        socket.setEncoding('utf8');
        socket.on('data', (chunk: string) => (received += chunk));
        socket.on('close', () => resolve(received));
        socket.on('error', reject);
        setTimeout(() => {
          socket.destroy();
          reject(new Error(`no answer in 5 s; got ${JSON.stringify(received)}`));
        }, 5_000).unref();
      });
      expect(answer).toMatch(/^HTTP\/1\.1 408/);
      expect(Date.now() - began).toBeLessThan(3_000);
      expect((await fetch(`${url.origin}/healthz`)).status).toBe(200);
    } finally {
      await quick.close();
    }
    await expectStillServing(run);
  });

  const expectStillServing = async (run: Json): Promise<void> => {
    expect((await send('GET', '/healthz')).status).toBe(200);
    const now = await send('GET', `/v1/runs/${run.id}`, undefined, ADMIN);
    expect(now.status).toBe(200);
    expect({ id: now.body.run.id, definition: now.body.run.definitionId, steps: now.body.run.steps.length }).toEqual({
      id: run.id,
      definition: run.definitionId,
      steps: run.steps.length,
    });
  };
});
