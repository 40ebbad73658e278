import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createInMemoryBus } from '@orchestron/bus';
import { createInMemoryEventStore } from '@orchestron/event-store';
import { createPolicyGovernance, Engine } from '@orchestron/runtime';
import { createHttpApp } from './app.ts';
import type { HttpApp } from './app.ts';

const KEYS = [
  { key: 'admin-key-0123456789', role: 'admin', name: 'root' },
  { key: 'acme-operator-0123456789', role: 'operator', name: 'ann', tenant: 'acme' },
  { key: 'acme-producer-0123456789', role: 'producer', name: 'shop', tenant: 'acme' },
  { key: 'globex-operator-0123456789', role: 'operator', name: 'gus', tenant: 'globex' },
] as const;
const [ADMIN, ACME_OPS, ACME_PRODUCER, GLOBEX_OPS] = KEYS.map((k) => k.key);
/** Ends at once: its one gate is skipped by `when`. */
const BULK = { id: 'bulk', version: 1, steps: { noop: { type: 'approval', when: '${{ false }}' } } };
const ACME_RUNS = 1_050;
const GLOBEX_RUNS = 20;

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
type Page = { runs: { id: string; tenant: string; position: number }[]; nextCursor: string | null };

describe('GET /v1/runs: cursor paging past 1,000 runs, and the run an idempotency key started', () => {
  let engine: Engine;
  let app: HttpApp;
  const acme = new Set<string>();
  const globex = new Set<string>();

  const call = async (method: 'GET' | 'POST', url: string, key: string | undefined, body?: unknown) => {
    const res = await app.nest.inject({
      method,
      url,
      headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { payload: JSON.stringify(body) } : {}),
    });
    return { status: res.statusCode, body: res.json() as Json };
  };
  const start = async (key: string | undefined, idempotencyKey?: string): Promise<string> => {
    const res = await call('POST', '/v1/runs', key, { definitionId: 'bulk', input: {}, idempotencyKey });
    expect(res.status).toBe(201);
    return res.body.run.id as string;
  };
  /** Every page of a listing, following nextCursor. */
  const pages = async (key: string | undefined, query: string): Promise<Page[]> => {
    const out: Page[] = [];
    let cursor: string | null = null;
    do {
      const res = await call('GET', `/v1/runs?${query}${cursor ? `&cursor=${cursor}` : ''}`, key);
      expect(res.status).toBe(200);
      out.push(res.body as Page);
      cursor = (res.body as Page).nextCursor;
    } while (cursor !== null && out.length < 20);
    return out;
  };

  beforeAll(async () => {
    engine = new Engine({
      store: createInMemoryEventStore(),
      bus: createInMemoryBus(),
      governance: createPolicyGovernance([]),
    });
    await engine.start();
    app = await createHttpApp({ runs: engine, keys: KEYS });
    for (const key of [ACME_OPS, GLOBEX_OPS])
      expect((await call('POST', '/v1/definitions', key, BULK)).status).toBe(201);
    for (let i = 0; i < ACME_RUNS; i++) acme.add(await start(ACME_OPS));
    for (let i = 0; i < GLOBEX_RUNS; i++) globex.add(await start(GLOBEX_OPS));
  }, 120_000);

  afterAll(async () => {
    await app.close();
    await engine.stop();
  });

  it("pages through all of a tenant's runs, newest first, each once, and never another tenant's", async () => {
    const got = await pages(ACME_OPS, 'limit=400');
    expect(got.map((p) => p.runs.length)).toEqual([400, 400, ACME_RUNS - 800]);
    expect(got.at(-1)?.nextCursor).toBeNull();
    const runs = got.flatMap((p) => p.runs);
    expect(new Set(runs.map((r) => r.id))).toEqual(acme);
    expect(runs.every((r) => r.tenant === 'acme')).toBe(true);
    const positions = runs.map((r) => r.position);
    expect(positions).toEqual([...positions].sort((a, b) => b - a));
    expect(new Set(positions).size).toBe(positions.length);
  });

  it("gives another tenant's key only its own runs, whatever cursor it sends", async () => {
    const acmeFirst = (await call('GET', '/v1/runs?limit=1000', ACME_OPS)).body as Page;
    expect(acmeFirst.runs).toHaveLength(1000);
    const foreign = await pages(GLOBEX_OPS, `limit=1000&cursor=${acmeFirst.nextCursor}`);
    const seen = foreign.flatMap((p) => p.runs.map((r) => r.id));
    expect(seen.every((id) => globex.has(id))).toBe(true);
    expect((await pages(GLOBEX_OPS, 'limit=7')).flatMap((p) => p.runs.map((r) => r.id)).sort()).toEqual(
      [...globex].sort(),
    );
    const all = await pages(ADMIN, 'limit=1000');
    expect(all.flatMap((p) => p.runs)).toHaveLength(ACME_RUNS + GLOBEX_RUNS);
    const peek = await call('GET', '/v1/runs?tenant=acme', GLOBEX_OPS);
    expect({ status: peek.status, code: peek.body.error?.code }).toEqual({ status: 403, code: 'AUTH.FORBIDDEN' });
  });

  it("finds the run an idempotency key started, in the caller's tenant only", async () => {
    const ours = await start(ACME_PRODUCER, 'order-42');
    const theirs = await start(GLOBEX_OPS, 'order-42');
    const ids = async (key: string | undefined, query: string) =>
      ((await call('GET', `/v1/runs?${query}`, key)).body.runs as { id: string }[]).map((r) => r.id);
    expect(await ids(ACME_OPS, 'idempotencyKey=order-42')).toEqual([ours]);
    expect(await ids(ACME_PRODUCER, 'idempotencyKey=order-42')).toEqual([ours]);
    expect(await ids(GLOBEX_OPS, 'idempotencyKey=order-42')).toEqual([theirs]);
    expect((await ids(ADMIN, 'idempotencyKey=order-42')).sort()).toEqual([ours, theirs].sort());
    expect(await ids(ADMIN, 'idempotencyKey=order-42&tenant=globex')).toEqual([theirs]);
    expect(await ids(ACME_OPS, 'idempotencyKey=order-43')).toEqual([]);
    expect(await ids(ACME_OPS, 'idempotencyKey=order-42&status=failed')).toEqual([]);
    expect(await ids(ACME_OPS, 'idempotencyKey=order-42&definition=other')).toEqual([]);
  });

  it('refuses a cursor or key that is not one, naming the field', async () => {
    for (const query of ['cursor=abc', 'cursor=-1', 'cursor=0', `idempotencyKey=${'k'.repeat(201)}`]) {
      const res = await call('GET', `/v1/runs?${query}`, ACME_OPS);
      expect(res.status).toBe(400);
      expect(res.body.error.details.field).toBe(query.split('=')[0]);
    }
  });
});
