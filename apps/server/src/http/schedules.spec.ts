import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createInMemoryBus } from '@orchestron/bus';
import { createInMemoryEventStore } from '@orchestron/event-store';
import { Engine } from '@orchestron/runtime';
import { createHttpApp } from './app.ts';
import type { HttpApp } from './app.ts';

/** /v1/schedules per role and tenant, tried as an attacker too: hostile cron strings, absurd time zones, limits. */
const key = (name: string): string => `${name}-key-0123456789`;
const KEYS = [
  { key: key('alice'), role: 'producer', name: 'alice', tenant: 'acme' },
  { key: key('olga'), role: 'operator', name: 'olga', tenant: 'acme' },
  { key: key('audrey'), role: 'auditor', name: 'audrey', tenant: 'acme' },
  { key: key('wendy'), role: 'worker', name: 'wendy', tenant: 'acme' },
  { key: key('oscar'), role: 'operator', name: 'oscar', tenant: 'globex' },
  { key: key('root'), role: 'admin', name: 'root' },
] as const;

const report = { id: 'report', version: 1, steps: { gate: { type: 'approval', assignees: ['role:operator'] } } };
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('/v1/schedules', () => {
  let engine: Engine;
  let app: HttpApp;

  const call = async (url: string, who: string, method: 'GET' | 'POST' | 'DELETE' = 'GET', body?: unknown) => {
    const res = await app.nest.inject({
      method,
      url,
      ...(body !== undefined ? { payload: body as Json } : {}),
      headers: {
        authorization: `Bearer ${key(who)}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
    });
    return { status: res.statusCode, body: res.json() as Json };
  };
  const nightly = (over: Json = {}): Json => ({
    id: 'nightly',
    definitionId: 'report',
    cron: '0 2 * * *',
    timezone: 'Europe/Paris',
    input: { region: 'eu' },
    ...over,
  });
  const create = (who: string, body: Json) => call('/v1/schedules', who, 'POST', body);

  beforeAll(async () => {
    // No scheduler here: these are the routes; the firing is libs/runtime/src/schedules.int.spec.ts.
    engine = new Engine({ store: createInMemoryEventStore(), bus: createInMemoryBus(), scheduleTickMs: false });
    await engine.start();
    for (const tenant of ['acme', 'globex']) await engine.definitions.register(report, 'test', tenant);
    app = await createHttpApp({ runs: engine, keys: KEYS });
  });

  afterAll(async () => {
    await engine.stop();
    await app.close();
  });

  it('an operator creates one (201): next fire in its time zone, no last fire, active, with the defaults', async () => {
    const created = await create('olga', nightly());
    expect(created.status).toBe(201);
    expect(created.body.schedule).toMatchObject({
      id: 'nightly',
      tenant: 'acme',
      status: 'active',
      cron: '0 2 * * *',
      timezone: 'Europe/Paris',
      overlap: 'skip',
      catchUp: 'latest',
      maxCatchUp: 10,
      lastFire: null,
      definitionVersion: null,
    });
    // 02:00 in Paris is 01:00 or 00:00 UTC, by the season.
    expect(created.body.schedule.nextFireAt).toMatch(/T0[01]:00:00\.000Z$/);
    expect(created.body.agent_contract.next_actions[0]).toMatchObject({ action: 'pause_schedule' });
    expect((await create('olga', nightly())).body.error.code).toBe('SCHEDULE.ALREADY_EXISTS');
  });

  it('lists and reads the tenant its own; pause and resume answer the new state', async () => {
    const list = await call('/v1/schedules', 'alice');
    expect(list.status).toBe(200);
    expect(list.body.schedules.map((s: Json) => s.id)).toEqual(['nightly']);
    expect((await call('/v1/schedules/nightly', 'audrey')).body.schedule.id).toBe('nightly');
    const paused = await call('/v1/schedules/nightly/pause', 'olga', 'POST', { reason: 'maintenance' });
    expect(paused.status).toBe(200);
    expect(paused.body.schedule).toMatchObject({ status: 'paused', nextFireAt: null });
    expect(paused.body.agent_contract.next_actions[0]).toMatchObject({ action: 'resume_schedule' });
    const resumed = await call('/v1/schedules/nightly/resume', 'olga', 'POST', {});
    expect(resumed.body.schedule).toMatchObject({ status: 'active', pausedAt: null });
  });

  it.each([
    ['alice', 'producer', 'POST', '/v1/schedules'],
    ['audrey', 'auditor', 'POST', '/v1/schedules/nightly/pause'],
    ['alice', 'producer', 'DELETE', '/v1/schedules/nightly'],
    ['wendy', 'worker', 'GET', '/v1/schedules'],
  ] as const)('refuses %s (a %s key) on %s %s with 403 naming the roles it needs', async (who, role, method, url) => {
    const refused = await call(url, who, method, method === 'GET' ? undefined : nightly({ id: 'other' }));
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('AUTH.FORBIDDEN');
    expect(refused.body.error.message).toContain(`role ${role} may not call this`);
  });

  it('refuses a call without a key (401)', async () => {
    const res = await app.nest.inject({ method: 'GET', url: '/v1/schedules' });
    expect(res.statusCode).toBe(401);
  });

  it("another tenant's key sees none of them: its list is empty, and reading, pausing or deleting one is 404", async () => {
    expect((await call('/v1/schedules', 'oscar')).body.schedules).toEqual([]);
    for (const [method, url] of [
      ['GET', '/v1/schedules/nightly'],
      ['POST', '/v1/schedules/nightly/pause'],
      ['POST', '/v1/schedules/nightly/resume'],
      ['DELETE', '/v1/schedules/nightly'],
    ] as const) {
      const res = await call(url, 'oscar', method, method === 'POST' ? {} : undefined);
      expect([url, res.status, res.body.error.code]).toEqual([url, 404, 'SCHEDULE.NOT_FOUND']);
    }
    const asked = await call('/v1/schedules?tenant=acme', 'oscar');
    expect(asked.status).toBe(403);
    const into = await create('oscar', nightly({ tenant: 'acme', id: 'sneaky' }));
    expect([into.status, into.body.error.details]).toEqual([403, { field: 'tenant' }]);
    expect((await call('/v1/schedules/nightly', 'olga')).body.schedule.status).toBe('active');
  });

  it('an admin sees every tenant, and names one with ?tenant=', async () => {
    expect((await call('/v1/schedules', 'root')).body.schedules.map((s: Json) => s.tenant)).toEqual(['acme']);
    expect((await call('/v1/schedules/nightly?tenant=acme', 'root')).status).toBe(200);
    expect((await call('/v1/schedules/nightly?tenant=globex', 'root')).status).toBe(404);
  });

  it.each([
    [{ cron: '61 * * * *' }, 'cron', /Invalid value for minute: 61/],
    [{ cron: 'every day at noon' }, 'cron', /"cron" is not a cron expression of 5 fields/],
    [{ cron: '0 0 30 2 *' }, 'cron', /never fires/],
    [{ cron: '* * * * *\n' }, 'cron', /control characters/],
    [{ cron: '1 '.repeat(60) }, 'cron', /1 to 100 characters/],
    [{ cron: 42 }, 'cron', /"cron" must be a cron expression/],
    [{ timezone: 'Mars/Olympus' }, 'timezone', /"timezone" must be an IANA time zone.*"Mars\/Olympus" is not one/],
    [{ timezone: '../../../etc/passwd' }, 'timezone', /IANA time zone/],
    [{ timezone: '+25:00' }, 'timezone', /IANA time zone/],
    [{ timezone: 'x'.repeat(65) }, 'timezone', /at most 64 characters/],
    [{ overlap: 'sometimes' }, 'overlap', /"overlap" must be one of skip, buffer_one, allow/],
    [{ catchUp: 'everything' }, 'catchUp', /"catchUp" must be one of none, latest, all/],
    [{ maxCatchUp: 1000 }, 'maxCatchUp', /from 1 to 100/],
    [{ id: '../etc' }, 'id', /"id" must be 1 to 64 characters/],
    [{ id: 'A'.repeat(65) }, 'id', /"id" must be 1 to 64/],
    [{ definitionVersion: 0 }, 'definitionVersion', /positive integer/],
  ])('refuses %j with 400 naming the field (%s)', async (over, field, message) => {
    const refused = await create('olga', nightly({ id: 'bad', ...over }));
    expect(refused.status).toBe(400);
    expect(['REQUEST.INVALID', 'SCHEDULE.INVALID']).toContain(refused.body.error.code);
    expect(refused.body.error.details).toMatchObject({ field });
    expect(refused.body.error.message).toMatch(message);
  });

  it('refuses an input over 256 KiB (400 naming input and the limit) and an unknown definition (404)', async () => {
    const big = await create('olga', nightly({ id: 'big', input: { blob: 'x'.repeat(300 * 1024) } }));
    expect([big.status, big.body.error.details]).toEqual([400, { field: 'input' }]);
    expect(big.body.error.message).toMatch(/over the limit of 262144/);
    const missing = await create('olga', nightly({ id: 'orphan', definitionId: 'no-such' }));
    expect([missing.status, missing.body.error.code]).toEqual([404, 'DEFINITION.NOT_FOUND']);
    expect((await call('/v1/schedules', 'olga')).body.schedules.map((s: Json) => s.id)).toEqual(['nightly']);
  });

  it('accepts a schedule every second (6 fields) and the nicknames', async () => {
    expect((await create('olga', nightly({ id: 'every-second', cron: '* * * * * *', timezone: 'UTC' }))).status).toBe(
      201,
    );
    expect((await create('olga', nightly({ id: 'hourly', cron: '@hourly' }))).status).toBe(201);
  });

  it('delete: 200, gone from the list, and gone for good (a second delete is 404)', async () => {
    const deleted = await call('/v1/schedules/nightly', 'olga', 'DELETE');
    expect(deleted.status).toBe(200);
    expect(deleted.body.deleted).toEqual({ id: 'nightly', tenant: 'acme' });
    expect((await call('/v1/schedules', 'olga')).body.schedules.map((s: Json) => s.id)).not.toContain('nightly');
    expect((await call('/v1/schedules/nightly', 'olga', 'DELETE')).status).toBe(404);
  });

  it("a definition registered with schedules: creates them in the key's tenant; a bad rule is refused at its path", async () => {
    const declaring = {
      ...report,
      id: 'declaring',
      schedules: { daily: { cron: '0 6 * * *', timezone: 'Asia/Tokyo' } },
    };
    expect((await call('/v1/definitions', 'oscar', 'POST', declaring)).status).toBe(201);
    const listed = (await call('/v1/schedules', 'oscar')).body.schedules as Json[];
    expect(listed.map((v) => [v.id, v.tenant, v.timezone])).toEqual([['declaring.daily', 'globex', 'Asia/Tokyo']]);
    expect((await call('/v1/schedules/declaring.daily', 'olga')).status).toBe(404);
    const bad = { ...declaring, id: 'bad-rule', schedules: { daily: { cron: '0 25 * * *', timezone: 'UTC' } } };
    const refused = await call('/v1/definitions', 'oscar', 'POST', bad);
    expect(refused.status).toBe(400);
    expect(JSON.stringify(refused.body.error)).toContain('/schedules/daily/cron');
  });

  it('is in the discovery document and the OpenAPI document', async () => {
    const discovery = await app.nest.inject({ method: 'GET', url: '/.well-known/agent.json' });
    const paths = (discovery.json() as Json).endpoints.map((e: Json) => `${e.method} ${e.path}`);
    expect(paths).toEqual(expect.arrayContaining(['POST /v1/schedules', 'DELETE /v1/schedules/{id}']));
    expect(Object.keys(app.openapi.paths)).toEqual(
      expect.arrayContaining(['/v1/schedules', '/v1/schedules/{id}', '/v1/schedules/{id}/pause']),
    );
  });
});
