/** GET /v1/locks on the embedded tier: the SQLite store, the in-process bus, and no worker to answer. */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '@orchestron/runtime/testing';
import { startEmbedded } from '../embedded.ts';
import type { Embedded } from '../embedded.ts';
import { createHttpApp } from './app.ts';
import type { HttpApp } from './app.ts';

const KEYS = [
  { key: 'admin-key-0123456789', role: 'admin', name: 'root' },
  { key: 'acme-operator-0123456789', role: 'operator', name: 'ann', tenant: 'acme' },
  { key: 'acme-producer-0123456789', role: 'producer', name: 'shop', tenant: 'acme' },
  { key: 'globex-operator-0123456789', role: 'operator', name: 'gil', tenant: 'globex' },
  { key: 'acme-worker-0123456789', role: 'worker', name: 'w', tenant: 'acme' },
] as const;
const [ADMIN, ACME_OPS, ACME_PRODUCER, GLOBEX_OPS, WORKER] = KEYS.map((k) => k.key) as [
  string,
  string,
  string,
  string,
  string,
];
const QUIET = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };
/** Nobody serves worker "bank": the first run's attempt stays out holding the account's lock; the next one waits. */
const transfer = {
  id: 'transfer',
  version: 1,
  steps: { post: { worker: 'bank', locks: [{ name: 'account-${{ input.account }}' }] } },
};

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('GET /v1/locks', () => {
  let embedded: Embedded;
  let app: HttpApp;
  const call = async (method: 'GET' | 'POST', url: string, key: string | undefined, body?: unknown) => {
    const res = await app.nest.inject({
      method,
      url,
      headers: {
        ...(key !== undefined ? { authorization: `Bearer ${key}` } : {}),
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      ...(body ? { payload: JSON.stringify(body) } : {}),
    });
    return { status: res.statusCode, body: res.json() as Json };
  };
  const locks = async (key: string | undefined, query = '') => call('GET', `/v1/locks${query}`, key);
  const names = async (key: string, query = '') =>
    ((await locks(key, query)).body.locks as Json[]).map((l) => `${l.tenant}:${l.name}`);
  /** A lock of the tenant as the admin sees it, once it has this many waiters. */
  const withWaiters = (tenant: string, waiters: number) =>
    eventually(`${tenant}'s lock with ${waiters} waiter(s)`, async () => {
      const found = ((await locks(ADMIN, `?tenant=${tenant}`)).body.locks as Json[])[0];
      return found?.holders.length === 1 && found.waiting.length === waiters ? found : undefined;
    });
  const start = async (key: string, account: string): Promise<string> => {
    const res = await call('POST', '/v1/runs', key, { definitionId: 'transfer', input: { account } });
    expect(res.status).toBe(201);
    return res.body.run.id as string;
  };

  beforeEach(async () => {
    embedded = await startEmbedded({
      dataDir: mkdtempSync(join(tmpdir(), 'locks-http-')),
      logger: QUIET,
      withWorkers: false,
    });
    app = await createHttpApp({ runs: embedded.engine, keys: KEYS, logger: QUIET, consoleDir: null });
    for (const key of [ACME_OPS, GLOBEX_OPS])
      expect((await call('POST', '/v1/definitions', key, transfer)).status).toBe(201);
  });

  afterEach(async () => {
    await app.close();
    await embedded.close();
  });

  it("shows each tenant who holds its lock and who waits, and never another tenant's lock of the same name", async () => {
    const acmeHolder = await start(ACME_OPS, '7');
    await withWaiters('acme', 0);
    const acmeWaiter = await start(ACME_PRODUCER, '7');
    const globexHolder = await start(GLOBEX_OPS, '7');
    await withWaiters('globex', 0);
    const globexWaiter = await start(GLOBEX_OPS, '7');
    await withWaiters('acme', 1);
    await withWaiters('globex', 1);

    const acme = await locks(ACME_OPS);
    expect(acme.status).toBe(200);
    expect(acme.body).toEqual({
      locks: [
        {
          tenant: 'acme',
          name: 'account-7',
          holders: [{ runId: acmeHolder, stepId: 'post', phase: 'execute', mode: 'exclusive' }],
          waiting: [
            {
              runId: acmeWaiter,
              stepId: 'post',
              phase: 'execute',
              mode: 'exclusive',
              since: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
            },
          ],
        },
      ],
      agent_contract: { retryable: false, next_actions: expect.any(Array) },
    });
    // The run view of the waiter says what it waits for; the table above says who it waits behind.
    const waiterRun = (await call('GET', `/v1/runs/${acmeWaiter}`, ACME_OPS)).body.run;
    expect(waiterRun.steps[0].held).toMatchObject({ reason: 'lock', worker: 'bank', locks: ['account-7'] });

    const globex = (await locks(GLOBEX_OPS)).body.locks as Json[];
    expect(globex.map((l) => [l.tenant, l.name, l.holders[0].runId, l.waiting[0].runId])).toEqual([
      ['globex', 'account-7', globexHolder, globexWaiter],
    ]);
    expect(await names(ACME_PRODUCER)).toEqual(['acme:account-7']);
    expect(await names(ADMIN)).toEqual(['acme:account-7', 'globex:account-7']);
    expect(await names(ADMIN, '?tenant=globex')).toEqual(['globex:account-7']);
    expect(await names(ADMIN, '?tenant=initech')).toEqual([]);
    expect(await names(ADMIN, '?limit=1')).toEqual(['acme:account-7']);
  });

  it('hands the lock to the next waiter once the holder ends', async () => {
    const holder = await start(ACME_OPS, '9');
    await withWaiters('acme', 0);
    const waiter = await start(ACME_OPS, '9');
    await withWaiters('acme', 1);
    const cancelled = await call('POST', `/v1/runs/${holder}/actions/cancel`, ACME_OPS, { reason: 'wrong account' });
    expect(cancelled.status).toBe(200);
    const after = await withWaiters('acme', 0);
    expect(after.holders).toEqual([{ runId: waiter, stepId: 'post', phase: 'execute', mode: 'exclusive' }]);
  });

  it('is in the discovery document for the reading roles, and in the OpenAPI document', async () => {
    const discovery = (await call('GET', '/.well-known/agent.json', undefined)).body;
    const route = (discovery.endpoints as Json[]).find((e) => e.method === 'GET' && e.path === '/v1/locks');
    expect(route?.roles).toEqual(['producer', 'operator', 'auditor', 'admin']);
    expect(Object.keys(app.openapi.paths)).toContain('/v1/locks');
  });

  it('refuses another tenant (403), a worker key (403), no key (401) and a bad limit (400 naming the field)', async () => {
    const peek = await locks(ACME_OPS, '?tenant=globex');
    expect([peek.status, peek.body.error?.code, peek.body.error?.details?.field]).toEqual([
      403,
      'AUTH.FORBIDDEN',
      'tenant',
    ]);
    expect((await locks(WORKER)).status).toBe(403);
    const anonymous = await locks(undefined);
    expect([anonymous.status, anonymous.body.error?.code]).toEqual([401, 'AUTH.UNAUTHENTICATED']);
    for (const limit of ['0', '1001', 'many', '2.5']) {
      const bad = await locks(ADMIN, `?limit=${limit}`);
      expect([bad.status, bad.body.error?.code, bad.body.error?.details?.field, bad.body.error?.message]).toEqual([
        400,
        'REQUEST.INVALID',
        'limit',
        'limit must be an integer from 1 to 1000',
      ]);
    }
    const badTenant = await locks(ADMIN, '?tenant=NOT%20A%20TENANT');
    expect([badTenant.status, badTenant.body.error?.details?.field]).toEqual([400, 'tenant']);
  });
});
