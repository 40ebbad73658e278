import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDefinitionText } from '@orchestron/definitions';
import { eventually } from '@orchestron/runtime/testing';
import { ROOT } from './server-process.ts';

/*
 * The security review's attacks (issue 8) against the production-shaped stack: the API process, the orchestrators
 * and the governance service over Kafka and PostgreSQL. Each check returns what it saw, for the test to judge.
 */

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
type Reply = { status: number; body: Json };
export type Call = (token: string, method: 'GET' | 'POST', path: string, body?: unknown) => Promise<Reply>;

const vendorPayment = parseDefinitionText(readFileSync(join(ROOT, 'examples/vendor-payment.yaml'), 'utf8')) as Json;
/** v2 of someone else's workflow, with the charge no longer flagged as a side effect. */
export const hijacked: Json = {
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

export function httpCaller(url: string): Call {
  return async (token, method, path, body) => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(30_000),
    });
    return { status: response.status, body: (await response.json()) as Json };
  };
}

/** Waits until the run's pay-vendor step is no longer pending or waiting for governance, and returns the run. */
async function payStepDecided(call: Call, token: string, runId: string): Promise<Json> {
  return eventually(
    `run ${runId} past governance`,
    async () => {
      const { body } = await call(token, 'GET', `/v1/runs/${runId}`);
      const pay = (body.run?.steps as Json[] | undefined)?.find((s) => s.id === 'pay-vendor');
      return pay && !['pending', 'waiting_governance'].includes(pay.status as string) ? (body.run as Json) : null;
    },
    60_000,
  );
}

export interface TakeoverOutcome {
  readonly inlineByProducer: number;
  readonly v2VisibleAfter: number;
  readonly unflaggedPayStep: Json;
}

/** Both ways: the producer's inline v2 is refused; an unflagged charge registered by an operator still meets the policies. */
export async function tryTakeover(call: Call, keys: { producer: string; operator: string }): Promise<TakeoverOutcome> {
  const inline = await call(keys.producer, 'POST', '/v1/runs', {
    definition: hijacked,
    input: { vendor: 'evil', amount: 999_999 },
  });
  const v2 = await call(keys.producer, 'GET', '/v1/definitions/vendor-payment?version=2');
  const unflagged = { ...hijacked, id: 'vendor-payment-unflagged', version: 1 };
  const registered = await call(keys.operator, 'POST', '/v1/definitions', unflagged);
  if (registered.status >= 300)
    throw new Error(
      `registering the unflagged definition: HTTP ${registered.status} ${JSON.stringify(registered.body)}`,
    );
  const started = await call(keys.producer, 'POST', '/v1/runs', {
    definitionId: 'vendor-payment-unflagged',
    input: { vendor: 'evil', amount: 999_999 },
  });
  const run = await payStepDecided(call, keys.producer, started.body.run.id as string);
  await call(keys.operator, 'POST', `/v1/runs/${run.id}/actions/reject`, {
    stepId: 'pay-vendor',
    reason: "the review's attack",
  });
  return {
    inlineByProducer: inline.status,
    v2VisibleAfter: v2.status,
    unflaggedPayStep: (run.steps as Json[]).find((s) => s.id === 'pay-vendor') as Json,
  };
}

export interface TenantOutcome {
  readonly aliceReadsOwn: number;
  readonly bobReadsAlice: number;
  readonly aliceRunTenantListed: boolean;
  readonly sameKeyTwoRuns: boolean;
}

/** Keys issued through /v1/keys (kept in PostgreSQL), then alice's run is invisible to bob, over Kafka to the orchestrators. */
export async function tryTenants(call: Call, admin: string): Promise<TenantOutcome> {
  const issue = async (role: string, subject: string, tenant: string): Promise<string> => {
    const res = await call(admin, 'POST', '/v1/keys', { role, subject, tenant });
    if (res.status !== 201) throw new Error(`issuing a key: HTTP ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.token as string;
  };
  const acmeOps = await issue('operator', 'acme-ops', 'acme');
  const alice = await issue('producer', 'alice', 'acme');
  const bob = await issue('producer', 'bob', 'globex');
  const globexOps = await issue('operator', 'globex-ops', 'globex');
  for (const ops of [acmeOps, globexOps]) await call(ops, 'POST', '/v1/definitions', vendorPayment);
  const input = { vendor: 'acme', amount: 10 };
  const mine = await call(alice, 'POST', '/v1/runs', {
    definitionId: 'vendor-payment',
    input,
    idempotencyKey: 'invoice-1',
  });
  const theirs = await call(bob, 'POST', '/v1/runs', {
    definitionId: 'vendor-payment',
    input,
    idempotencyKey: 'invoice-1',
  });
  const id = mine.body.run.id as string;
  const listed = await call(alice, 'GET', '/v1/runs');
  return {
    aliceReadsOwn: (await call(alice, 'GET', `/v1/runs/${id}`)).status,
    bobReadsAlice: (await call(bob, 'GET', `/v1/runs/${id}`)).status,
    aliceRunTenantListed:
      (listed.body.runs as Json[]).every((r) => r.tenant === 'acme') &&
      (listed.body.runs as Json[]).some((r) => r.id === id),
    sameKeyTwoRuns: theirs.status === 201 && theirs.body.run.id !== id,
  };
}
