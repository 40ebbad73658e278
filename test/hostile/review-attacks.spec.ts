/**
 * Each attack of the security review (issue 8), by its number and name, against one embedded server with an
 * ordinary producer key. The generated cases are in hostile-http.spec.ts and hostile-messages.spec.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connect } from 'node:net';
import { eventually } from '@orchestron/runtime/testing';
import { deepArray, deepObject } from './arbitraries.ts';
import { startHostileServer, vendorPayment } from './fixture.ts';
import type { HostileServer, Json } from './fixture.ts';

describe("the security review's attacks", () => {
  let server: HostileServer;
  let witness: { id: string; history: string };

  beforeAll(async () => {
    server = await startHostileServer();
    witness = await server.witness();
  });
  afterAll(() => server.close());

  const run = async (id: string, as = 'admin'): Promise<Json> =>
    (await server.call('GET', `/v1/runs/${id}`, as)).body.run as Json;
  const register = async (definition: Json): Promise<void> => {
    expect((await server.call('POST', '/v1/definitions', 'ops', definition)).status).toBe(201);
  };
  const withMapping = (id: string, amount: string): Json => ({
    ...vendorPayment,
    id,
    version: 1,
    steps: { 'pay-vendor': { worker: 'payments', action: 'charge', input: { amount, vendor: '${{ input.vendor }}' } } },
  });

  it("1. governance bypass and definition takeover: the producer's inline v2 is refused, and nothing is charged", async () => {
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
    const refused = await server.call('POST', '/v1/runs', 'producer', {
      definition: hijacked,
      input: { vendor: 'evil', amount: 999_999 },
    });
    expect(refused).toMatchObject({
      status: 403,
      body: { error: { code: 'AUTH.FORBIDDEN', details: { field: 'definition' } } },
    });
    const started = await server.call('POST', '/v1/runs', 'ops', {
      definitionId: 'vendor-payment',
      input: { vendor: 'acme', amount: 5_000 },
    });
    expect(started.body.run.definition.version).toBe(1);
    const waiting = await eventually('the approval gate', async () => {
      const current = await run(started.body.run.id as string);
      return current.steps.some((s: Json) => s.id === 'pay-vendor' && s.status === 'waiting_approval') ? current : null;
    });
    expect(waiting.steps.find((s: Json) => s.id === 'pay-vendor').governance.policyId).toBe('payment-over-limit');
  });

  it('2. one request freezes the server: the ReDoS mapping evaluates on RE2 at once, and a million-element map exceeds its budget', async () => {
    await register(withMapping('redos', "${{ 'aaaaaaaaaaaaaaaaaaaaaaaaaa!'.matches('^(a+)+$') }}"));
    const redos = await server.call('POST', '/v1/runs', 'producer', {
      definitionId: 'redos',
      input: { vendor: 'acme', amount: 1 },
    });
    expect(redos.status).toBe(201);
    // RE2 answers false in linear time; the charge then gets `false` as its amount (and the payment policy, which
    // compares it with 1000, fails closed on it).
    const settled = await eventually('the ReDoS run to settle', async () => {
      const current = await run(redos.body.run.id as string);
      return ['completed', 'failed', 'compensated'].includes(current.status as string) ? current : null;
    });
    expect(settled.status).not.toBe('running');
    const asked = (
      (await server.call('GET', `/v1/runs/${redos.body.run.id}/events`, 'admin')).body.events as Json[]
    ).find((e) => e.type === 'GovernanceCheckRequested');
    expect(asked?.data.input).toEqual({ amount: false, vendor: 'acme' });

    await register({
      ...withMapping('million', '${{ input.items.map(x, x + 1) }}'),
      input: { schema: { type: 'object' } },
    });
    const items = Array.from({ length: 1_000_000 }, () => 0);
    const million = await server.call('POST', '/v1/runs', 'producer', {
      definitionId: 'million',
      input: { vendor: 'acme', items },
    });
    expect(million.status).toBe(201);
    const failed = await eventually('the million-element run to fail', async () => {
      const current = await run(million.body.run.id as string);
      return current.status === 'failed' ? current : null;
    });
    expect(failed.steps[0].error).toMatchObject({
      code: 'EXPRESSION.BUDGET_EXCEEDED',
      message: expect.stringContaining('exceeded its budget of 10000 operations'),
      retryable: false,
    });
  });

  it('3. deep JSON crashes a request: 10,000 deep is a 400 naming the limit on the three routes', async () => {
    const bodies: [string, string, string][] = [
      ['/v1/runs', 'producer', `{"definitionId":"vendor-payment","input":${deepArray(10_000)}}`],
      ['/v1/definitions/validate', 'producer', `{"id":"x","version":1,"steps":${deepObject(10_000)}}`],
      [`/v1/runs/${witness.id}/actions/skip`, 'ops', `{"stepId":"pay-vendor","output":${deepArray(10_000)}}`],
    ];
    for (const [url, as, text] of bodies) {
      const reply = await server.send('POST', url, as, text);
      expect({ url, status: reply.status, error: reply.body.error }).toEqual({
        url,
        status: 400,
        error: expect.objectContaining({
          message: 'the body nests deeper than 64 levels',
          details: { limit: 'depth', max: 64 },
        }),
      });
    }
  });

  it('4. a failure that never stops: a lone surrogate is one recorded UNEVALUABLE decision; 1,000 deep is refused at the edge', async () => {
    const surrogate = await server.send(
      'POST',
      '/v1/runs',
      'producer',
      '{"definitionId":"vendor-payment","input":{"vendor":"acme\\ud800","amount":5}}',
    );
    expect(surrogate.status).toBe(201);
    const id = surrogate.body.run.id as string;
    const stuck = await eventually('the run to need an operator', async () =>
      (await run(id)).status === 'needs_operator' ? run(id) : null,
    );
    expect(stuck.attention.code).toBe('GOVERNANCE.UNEVALUABLE');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const decisions = ((await server.call('GET', `/v1/runs/${id}/events`, 'admin')).body.events as Json[]).filter(
      (e) => e.type === 'GovernanceDecided',
    );
    expect(decisions).toHaveLength(1);
    expect(
      (await server.call('POST', `/v1/runs/${id}/actions/cancel`, 'ops', { reason: 'bad input' })).body.run.status,
    ).toBe('cancelled');
    const deep = await server.send(
      'POST',
      '/v1/runs',
      'producer',
      `{"definitionId":"vendor-payment","input":${deepObject(1_000)}}`,
    );
    expect(deep.body.error).toMatchObject({ code: 'REQUEST.INVALID', details: { limit: 'depth' } });
  });

  it('5. numbers out of range: "version": 1e309 is a 400 naming the path, not a stored null', async () => {
    const reply = await server.send(
      'POST',
      '/v1/definitions',
      'ops',
      JSON.stringify({ ...vendorPayment, version: 0 }).replace('"version":0', '"version":1e309'),
    );
    expect(reply).toMatchObject({ status: 400, body: { error: { message: '$.version is not a finite number' } } });
  });

  it("6. no tenant isolation: bob cannot read alice's run, and their idempotency keys do not meet", async () => {
    const alice = await server.call('POST', '/v1/runs', 'alice', {
      definitionId: 'vendor-payment',
      input: { vendor: 'a', amount: 1 },
      idempotencyKey: 'k-1',
    });
    expect((await server.call('GET', `/v1/runs/${alice.body.run.id}`, 'bob')).status).toBe(404);
    const bob = await server.call('POST', '/v1/runs', 'bob', {
      definitionId: 'vendor-payment',
      input: { vendor: 'b', amount: 2 },
      idempotencyKey: 'k-1',
    });
    expect(bob.status).toBe(201);
    expect(bob.body.run.id).not.toBe(alice.body.run.id);
  });

  it('7. smaller gaps: prototype keys, a 1 MB identifier, and a truncated body', async () => {
    const prototype = await server.send(
      'POST',
      '/v1/runs',
      'producer',
      '{"definitionId":"vendor-payment","input":{"vendor":"a","amount":1},"prototype":{}}',
    );
    expect(prototype.body.error).toMatchObject({
      code: 'REQUEST.INVALID',
      message: '"prototype" is not a field of this request',
      details: { field: 'prototype' },
    });
    const proto = await server.send(
      'POST',
      '/v1/runs',
      'producer',
      '{"__proto__":{"admin":true},"definitionId":"vendor-payment"}',
    );
    expect(proto.body.error.message).toContain('__proto__');
    const huge = await server.call('POST', '/v1/runs', 'producer', { definitionId: 'a'.repeat(1_048_576), input: {} });
    expect(huge.status).toBe(400);
    expect(huge.size).toBeLessThan(1_024);
    expect(huge.body.error.message).toContain('1 to 63 characters');

    const url = new URL(await server.app.listen('127.0.0.1', 0));
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(url.port), url.hostname, () => {
        socket.write(
          'POST /v1/runs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"definiti',
        );
      });
      let text = '';
      socket.on('data', (chunk) => {
        text += chunk.toString();
      });
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
  });

  it('after them all the server is healthy and the run finished before is unchanged', async () => {
    expect((await server.send('GET', '/healthz', 'producer')).status).toBe(200);
    expect(JSON.stringify((await server.call('GET', `/v1/runs/${witness.id}/events`, 'admin')).body.events)).toBe(
      witness.history,
    );
  });
});
