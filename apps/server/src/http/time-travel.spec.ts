import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { createInMemoryBus } from '@orchestron/bus';
import { parseDefinitionText } from '@orchestron/definitions';
import { createInMemoryEventStore } from '@orchestron/event-store';
import { createOnboardingWorkers } from '@orchestron/example-workers';
import { Engine, toRunView } from '@orchestron/runtime';
import type { RunData } from '@orchestron/workflow-core';
import type { Worker } from '@orchestron/worker-sdk';
import { createHttpApp } from './app.ts';
import type { HttpApp } from './app.ts';

/** GET /v1/runs/:id?at=: the run as it was after a revision, or at a time; read-only, per role and tenant. */
const key = (name: string): string => `${name}-key-0123456789`;
const KEYS = [
  { key: key('alice'), role: 'producer', name: 'alice', tenant: 'acme' },
  { key: key('olga'), role: 'operator', name: 'olga', tenant: 'acme' },
  { key: key('audrey'), role: 'auditor', name: 'audrey', tenant: 'acme' },
  { key: key('otto'), role: 'operator', name: 'otto', tenant: 'globex' },
] as const;
const onboarding = parseDefinitionText(
  readFileSync(new URL('../../../../examples/employee-onboarding.yaml', import.meta.url), 'utf8'),
);

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('time travel over HTTP', () => {
  let engine: Engine;
  let app: HttpApp;
  let workers: Worker[];
  let id: string;
  let events: Json[];

  const call = async (url: string, who = 'audrey', method: 'GET' | 'POST' = 'GET', body?: Json) => {
    const res = await app.nest.inject({
      method,
      url,
      ...(body !== undefined ? { payload: body } : {}),
      headers: { authorization: `Bearer ${key(who)}` },
    });
    return { status: res.statusCode, body: res.json() as Json };
  };

  beforeAll(async () => {
    const bus = createInMemoryBus();
    engine = new Engine({ store: createInMemoryEventStore(), bus });
    workers = createOnboardingWorkers({ bus, workMs: 5 });
    for (const w of workers) await w.start();
    await engine.start();
    await engine.definitions.register(onboarding, 'test', 'acme');
    app = await createHttpApp({ runs: engine, keys: KEYS });
    const started = await call('/v1/runs', 'alice', 'POST', {
      definitionId: 'employee-onboarding',
      input: { email: 'a@example.com' },
    });
    id = started.body.run.id as string;
    expect((await call(`/v1/runs/${id}/wait?timeoutMs=20000`)).body.run.status).toBe('completed');
    events = (await call(`/v1/runs/${id}/events`)).body.events as Json[];
  });

  afterAll(async () => {
    for (const w of workers) await w.stop();
    await engine.stop();
    await app.close();
  });

  const viewAt = async (revision: number): Promise<unknown> =>
    JSON.parse(JSON.stringify(toRunView((await engine.stateAt(id, revision)) as RunData))) as unknown;

  it('shows the run as the fold of its events up to each revision, and where that point is', async () => {
    const latest = events.length - 1;
    expect(latest).toBeGreaterThan(4);
    for (const revision of [0, 2, Math.floor(latest / 2), latest]) {
      const past = await call(`/v1/runs/${id}?at=${revision}`);
      expect(past.status).toBe(200);
      expect(past.body.run).toEqual(await viewAt(revision));
      expect(past.body.at).toEqual({
        revision,
        recordedAt: events[revision]?.recordedAt,
        eventType: events[revision]?.type,
        latestRevision: latest,
      });
    }
    const first = (await call(`/v1/runs/${id}?at=0`)).body.run as Json;
    expect(first.status).toBe('running');
    expect(first.steps.every((s: Json) => s.status !== 'completed')).toBe(true);
    expect((await call(`/v1/runs/${id}?at=${latest}`)).body.run).toEqual((await call(`/v1/runs/${id}`)).body.run);
  });

  it('offers no operator action on a past state, only the reads', async () => {
    const past = await call(`/v1/runs/${id}?at=1`, 'olga');
    expect(past.body.agent_contract.next_actions.map((a: Json) => a.method)).toEqual(['GET', 'GET']);
  });

  it('with a time, shows the run after the last event recorded by then', async () => {
    const middle = events[Math.floor(events.length / 2)] as Json;
    const past = await call(`/v1/runs/${id}?at=${encodeURIComponent(middle.recordedAt as string)}`);
    expect(past.status).toBe(200);
    const expected = events.filter(
      (e) => Date.parse(e.recordedAt as string) <= Date.parse(middle.recordedAt as string),
    );
    expect(past.body.at.revision).toBe(expected.length - 1);
    expect(past.body.run).toEqual(await viewAt(expected.length - 1));
    const now = await call(`/v1/runs/${id}?at=${encodeURIComponent(new Date().toISOString())}`);
    expect(now.body.at.revision).toBe(events.length - 1);
  });

  it('refuses an at it cannot show with a 400 that names the field and the bound', async () => {
    const latest = events.length - 1;
    const first = Date.parse(events[0]?.recordedAt as string);
    const cases: [string, string][] = [
      [`${latest + 1}`, `past the run's newest revision, ${latest}`],
      ['yesterday', 'neither a revision'],
      ['-1', 'neither a revision'],
      ['1.5', 'neither a revision'],
      ['2026-13-45T99:00:00Z', 'neither a revision'],
      ['9'.repeat(16), 'neither a revision'],
      [new Date(Date.now() + 3_600_000).toISOString(), 'is in the future'],
      [new Date(first - 60_000).toISOString(), 'before the run began'],
    ];
    for (const [at, message] of cases) {
      const refused = await call(`/v1/runs/${id}?at=${encodeURIComponent(at)}`);
      expect({
        at,
        status: refused.status,
        code: refused.body.error.code,
        field: refused.body.error.details?.field,
      }).toEqual({ at, status: 400, code: 'REQUEST.INVALID', field: 'at' });
      expect(refused.body.error.message).toContain(message);
    }
    const twice = await call(`/v1/runs/${id}?at=1&at=2`);
    expect(twice.status).toBe(400);
    expect((await call(`/v1/runs/${id}?when=1`)).status).toBe(400);
  });

  it("keeps a run's past from a producer, and from another tenant, as its history is", async () => {
    const producer = await call(`/v1/runs/${id}?at=1`, 'alice');
    expect({ status: producer.status, code: producer.body.error.code }).toEqual({
      status: 403,
      code: 'AUTH.FORBIDDEN',
    });
    expect((await call(`/v1/runs/${id}`, 'alice')).status).toBe(200);
    const stranger = await call(`/v1/runs/${id}?at=1`, 'otto');
    expect({ status: stranger.status, code: stranger.body.error.code }).toEqual({
      status: 404,
      code: 'RUN.NOT_FOUND',
    });
    expect((await call('/v1/runs/no-such-run?at=1')).status).toBe(404);
  });
});
