import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { createInMemoryBus } from '@orchestron/bus';
import { parseDefinitionText } from '@orchestron/definitions';
import { createInMemoryEventStore } from '@orchestron/event-store';
import type { EventStore } from '@orchestron/event-store';
import { createOnboardingWorkers } from '@orchestron/example-workers';
import { AuditIndexer, createPolicyGovernance, Engine } from '@orchestron/runtime';
import { eventually } from '@orchestron/runtime/testing';
import type { Worker } from '@orchestron/worker-sdk';
import { createHttpApp } from './app.ts';
import type { HttpApp } from './app.ts';

/** GET /v1/audit/events over real runs on the in-memory Engine, served from the audit index. */
const key = (name: string): string => `${name}-key-0123456789`;
const KEYS = [
  { key: key('admin'), role: 'admin', name: 'root' },
  { key: key('ann'), role: 'operator', name: 'ann', tenant: 'acme', groups: ['finance'] },
  { key: key('al'), role: 'auditor', name: 'al', tenant: 'acme' },
  { key: key('shop'), role: 'producer', name: 'shop', tenant: 'acme' },
  { key: key('gus'), role: 'producer', name: 'gus', tenant: 'globex' },
  { key: key('gil'), role: 'auditor', name: 'gil', tenant: 'globex' },
] as const;
const file = (path: string): string => readFileSync(new URL(`../../../../examples/${path}`, import.meta.url), 'utf8');
const onboarding = parseDefinitionText(file('employee-onboarding.yaml'));
const policy = { name: 'onboarding.cedar', text: file('policies/onboarding.cedar') };
const T0 = Date.parse('2025-06-01T10:00:00.000Z');

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('GET /v1/audit/events', () => {
  let store: EventStore;
  let engine: Engine;
  let indexer: AuditIndexer;
  let app: HttpApp;
  let workers: Worker[];
  let now = T0;

  beforeEach(async () => {
    now = T0;
    const bus = createInMemoryBus();
    store = createInMemoryEventStore({ now: () => new Date(now) });
    engine = new Engine({ store, bus, governance: createPolicyGovernance([policy]) });
    workers = createOnboardingWorkers({ bus, workMs: 0 });
    for (const w of workers) await w.start();
    await engine.start();
    await engine.definitions.register(onboarding, 'test', 'acme');
    await engine.definitions.register(onboarding, 'test', 'globex');
    indexer = new AuditIndexer({ store });
    app = await createHttpApp({ runs: engine, keys: KEYS, auditEvents: store.auditIndex! });
  });

  afterEach(async () => {
    for (const w of workers) await w.stop();
    await engine.stop();
    await indexer.close();
    await app.close();
  });

  const call = async (method: 'GET' | 'POST', url: string, who: string, body?: Json) => {
    const res = await app.nest.inject({
      method,
      url,
      ...(body !== undefined ? { payload: body } : {}),
      headers: { authorization: `Bearer ${key(who)}` },
    });
    return { status: res.statusCode, body: res.json() as Json };
  };
  const search = async (query: string, who = 'al') => {
    await indexer.catchUp();
    return call('GET', `/v1/audit/events${query}`, who);
  };
  const runTo = async (who: string, input: Json, statuses: string[]): Promise<string> => {
    const started = await call('POST', '/v1/runs', who, { definitionId: 'employee-onboarding', input });
    expect(started.status).toBe(201);
    const id = started.body.run.id as string;
    await eventually(`run ${id} to be ${statuses.join(' or ')}`, async () =>
      statuses.includes((await engine.getRun(id))?.status ?? ''),
    );
    return id;
  };
  /** An acme manager's run approved by ann, and a globex run: both to the end. */
  const approvedRun = async (): Promise<{ acme: string; globex: string }> => {
    const acme = await runTo('shop', { email: 'm@example.com', manager: true }, ['running']);
    await eventually('the approval gate', async () =>
      JSON.stringify((await engine.getRun(acme))?.steps ?? {}).includes('waiting_approval'),
    );
    now += 60_000;
    const approved = await call('POST', `/v1/runs/${acme}/actions/approve`, 'ann', {
      stepId: 'budget-approval',
      reason: 'ok',
    });
    expect(approved.status).toBe(200);
    await eventually('the approved run to complete', async () => (await engine.getRun(acme))?.status === 'completed');
    const globex = await runTo('gus', { email: 'g@example.com' }, ['completed']);
    return { acme, globex };
  };

  it("shows an operator's approval under that operator, with its event and the fields lifted out of it", async () => {
    const { acme } = await approvedRun();
    const { status, body } = await search('?actor=operator:ann&type=StepApproved');
    expect(status).toBe(200);
    expect(body.events).toHaveLength(1);
    expect(body.events[0]).toMatchObject({
      runId: acme,
      type: 'StepApproved',
      actor: 'operator:ann',
      stepId: 'budget-approval',
      tenant: 'acme',
      definitionId: 'employee-onboarding',
      data: { by: 'operator:ann', reason: 'ok' },
      recordedAt: '2025-06-01T10:01:00.000Z',
    });
    expect(body.events[0].position).toEqual(expect.any(Number));
    expect(body.events[0].revision).toEqual(expect.any(Number));
    expect(body.next_cursor).toBeNull();
  });

  it('filters by type, step, policy, run, definition and time', async () => {
    const { acme } = await approvedRun();
    const types = (await search('?type=RunStarted')).body.events;
    expect(types.map((e: Json) => e.runId)).toEqual([acme]);
    expect(types[0].actor).toBe('producer:shop');
    const step = (await search('?step=create-account')).body.events as Json[];
    expect(step.length).toBeGreaterThan(2);
    expect(step.every((e) => e.stepId === 'create-account' && e.runId === acme)).toBe(true);
    const decided = (await search('?policy=baseline-allow')).body.events as Json[];
    expect(decided.length).toBeGreaterThan(0);
    expect(decided.every((e) => e.type === 'GovernanceDecided' && e.data.policyId === 'baseline-allow')).toBe(true);
    expect((await search(`?run=${acme}&definition=employee-onboarding`)).body.events.length).toBeGreaterThan(5);
    const late = (await search('?since=2025-06-01T10:01:00Z')).body.events as Json[];
    expect(late.map((e) => e.type)).toContain('StepApproved');
    expect(late.map((e) => e.type)).not.toContain('RunStarted');
    expect(late.every((e) => e.recordedAt >= '2025-06-01T10:01:00.000Z')).toBe(true);
    const early = (await search('?until=2025-06-01T12:00:30%2B02:00')).body.events as Json[];
    expect(early.every((e) => e.recordedAt < '2025-06-01T10:00:30.000Z')).toBe(true);
    expect(early.length + late.length).toBe((await search(`?run=${acme}&limit=1000`)).body.events.length);
  });

  it('pages with next_cursor without gaps or repeats, and ends with null', async () => {
    const { acme } = await approvedRun();
    const all = (await search(`?limit=1000`)).body.events.map((e: Json) => e.position);
    const paged: number[] = [];
    let cursor: string | null = null;
    do {
      const page: { status: number; body: Json } = await search(`?limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.status).toBe(200);
      expect(page.body.events.length).toBeLessThanOrEqual(3);
      paged.push(...page.body.events.map((e: Json) => e.position));
      cursor = page.body.next_cursor;
    } while (cursor !== null);
    expect(paged).toEqual(all);
    expect(new Set(paged).size).toBe(paged.length);
    expect(all.length).toBeGreaterThan(6);
    expect(acme).toBeDefined();
  });

  it("never shows another tenant's events; an admin picks a tenant or sees all", async () => {
    const { acme, globex } = await approvedRun();
    const acmeRuns = new Set((await search('?limit=1000')).body.events.map((e: Json) => e.runId));
    expect([...acmeRuns]).toEqual([acme]);
    const globexRuns = new Set((await search('?limit=1000', 'gil')).body.events.map((e: Json) => e.runId));
    expect([...globexRuns]).toEqual([globex]);
    expect((await search(`?run=${globex}`)).body.events).toEqual([]);
    const refused = await search('?tenant=globex');
    expect(refused.status).toBe(403);
    expect(refused.body.error.details.field).toBe('tenant');
    const admin = (await search('?tenant=globex&limit=1000', 'admin')).body.events as Json[];
    expect(new Set(admin.map((e) => e.runId))).toEqual(new Set([globex]));
    const everyone = (await search('?type=RunStarted', 'admin')).body.events as Json[];
    expect(everyone.map((e) => e.tenant)).toEqual(['acme', 'globex']);
    expect((await search('', 'shop')).status).toBe(403);
  });

  it('refuses a bad cursor, limit or time with a 400 naming the field', async () => {
    await approvedRun();
    const first = await search('?limit=2');
    const cursor = first.body.next_cursor as string;
    const bad: [string, string][] = [
      ['?cursor=not-a-cursor', 'cursor'],
      [`?cursor=${cursor}&type=RunStarted`, 'cursor'],
      [
        `?cursor=${Buffer.from(`999.${Buffer.from(cursor, 'base64url').toString().split('.')[1]}`).toString('base64url')}&limit=2`,
        'cursor',
      ],
      ['?limit=0', 'limit'],
      ['?limit=1001', 'limit'],
      ['?limit=ten', 'limit'],
      ['?since=yesterday', 'since'],
      ['?until=2025-06-01T10:00:00', 'until'],
      ['?since=2025-02-31T25:00:00Z', 'since'],
      ['?actor=', 'actor'],
    ];
    for (const [query, field] of bad) {
      const { status, body } = await search(query);
      expect([query, status, body.error?.details?.field]).toEqual([query, 400, field]);
      expect(body.error.message).toContain(field);
    }
  });

  it('answers 409 AUDIT.UNAVAILABLE when the store keeps no audit index', async () => {
    const bare = await createHttpApp({ runs: engine, keys: KEYS });
    try {
      const res = await bare.nest.inject({
        method: 'GET',
        url: '/v1/audit/events',
        headers: { authorization: `Bearer ${key('al')}` },
      });
      expect(res.statusCode).toBe(409);
      expect(res.json().error.code).toBe('AUDIT.UNAVAILABLE');
    } finally {
      await bare.close();
    }
  });
});
