import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { createInMemoryBus } from '@orchestron/bus';
import { createInMemoryEventStore } from '@orchestron/event-store';
import { DeliveryLog, webhookIdOf } from '@orchestron/notifications';
import type { DeliveryRecord, DeliveryStatus } from '@orchestron/notifications';
import { createPolicyGovernance, Engine } from '@orchestron/runtime';
import { createHttpApp } from './app.ts';
import type { HttpApp } from './app.ts';

const KEYS = [
  { key: 'admin-key-0123456789', role: 'admin', name: 'root' },
  { key: 'acme-operator-0123456789', role: 'operator', name: 'ann', tenant: 'acme' },
  { key: 'acme-auditor-0123456789', role: 'auditor', name: 'al', tenant: 'acme' },
  { key: 'acme-producer-0123456789', role: 'producer', name: 'shop', tenant: 'acme' },
] as const;

function record(runId: string, tenant: string, position: number, status: DeliveryStatus): DeliveryRecord {
  const eventId = `event-${position}`;
  return {
    id: `pager:${eventId}`,
    endpoint: 'pager',
    webhookId: webhookIdOf(eventId),
    status,
    notification: {
      type: 'run.needs_operator',
      timestamp: '2026-01-01T00:00:00.000Z',
      data: {
        runId,
        tenant,
        definitionId: 'onboarding',
        definitionVersion: 1,
        stepId: 'a',
        code: 'SIMULATED.TERMINAL',
        message: 'step "a" failed',
        link: `/v1/runs/${runId}`,
        eventId,
        eventType: 'RunNeedsOperator',
        position,
        revision: 3,
      },
    },
    attempts: status === 'pending' ? 0 : 2,
    lastStatus: status === 'delivered' ? 200 : null,
    lastError: null,
    lastAttemptAt: null,
    nextAttemptAt: status === 'pending' ? '2026-01-01T00:00:01.000Z' : null,
    createdAt: '2026-01-01T00:00:00.000Z',
    deliveredAt: null,
  };
}

describe('GET /v1/notifications', () => {
  let engine: Engine;
  let app: HttpApp;

  beforeEach(async () => {
    const store = createInMemoryEventStore();
    const log = new DeliveryLog(store.readRows!);
    for (const r of [
      record('a1', 'acme', 1, 'delivered'),
      record('a2', 'acme', 2, 'pending'),
      record('g1', 'globex', 3, 'failed'),
    ])
      await log.save(r);
    engine = new Engine({ store, bus: createInMemoryBus(), governance: createPolicyGovernance([]) });
    await engine.start();
    app = await createHttpApp({ runs: engine, keys: KEYS, notifications: log });
  });

  afterEach(async () => {
    await app.close();
    await engine.stop();
  });

  const list = async (query: string, key: string) => {
    const res = await app.nest.inject({
      method: 'GET',
      url: `/v1/notifications${query}`,
      headers: { authorization: `Bearer ${key}` },
    });
    return { status: res.statusCode, body: res.json() as Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
  };
  const runsOf = (body: Record<string, unknown>) => (body.deliveries as { runId: string }[]).map((d) => d.runId);

  it("lists an operator's or auditor's own tenant only, newest first, and never another tenant's", async () => {
    for (const key of ['acme-operator-0123456789', 'acme-auditor-0123456789']) {
      const { status, body } = await list('', key);
      expect(status).toBe(200);
      expect(runsOf(body)).toEqual(['a2', 'a1']);
    }
    expect(runsOf((await list('?run=g1', 'acme-operator-0123456789')).body)).toEqual([]);
    expect((await list('?tenant=globex', 'acme-operator-0123456789')).status).toBe(403);
  });

  it('lets an admin see every tenant, or one, and filters by run and status', async () => {
    const admin = 'admin-key-0123456789';
    expect(runsOf((await list('', admin)).body)).toEqual(['g1', 'a2', 'a1']);
    expect(runsOf((await list('?tenant=globex', admin)).body)).toEqual(['g1']);
    expect(runsOf((await list('?run=a1', admin)).body)).toEqual(['a1']);
    const failed = await list('?status=failed', admin);
    expect(failed.body.deliveries).toEqual([
      expect.objectContaining({
        runId: 'g1',
        status: 'failed',
        attempts: 2,
        endpoint: 'pager',
        type: 'run.needs_operator',
      }),
    ]);
  });

  it('refuses producers, and a bad status naming it', async () => {
    expect((await list('', 'acme-producer-0123456789')).status).toBe(403);
    const bad = await list('?status=lost', 'admin-key-0123456789');
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({
      code: 'REQUEST.INVALID',
      message: '"status" must be one of pending, delivered, failed',
      details: { field: 'status' },
    });
  });
});
