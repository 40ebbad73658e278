/** ScheduleService on the in-memory store with a fixed clock: tenants, the limit per tenant, and the views. */
import { describe, expect, it } from '@jest/globals';
import { compileDefinition } from '@orchestron/definitions';
import { createInMemoryEventStore } from '@orchestron/event-store';
import { DomainError } from '@orchestron/workflow-core';
import { ScheduleService } from './schedule-service.ts';
import type { CreateScheduleRequest } from './schedule-service.ts';

const NOW = Date.UTC(2026, 11, 6, 21, 0, 0);
const report = compileDefinition({ id: 'report', version: 1, steps: { a: { worker: 'w' } } });

const service = (maxPerTenant?: number) =>
  new ScheduleService({
    store: createInMemoryEventStore(),
    clock: { now: () => NOW },
    definition: (id) => {
      if (id !== 'report') throw new DomainError('RUN.NOT_FOUND', `no definition ${id}`);
      return report;
    },
    ...(maxPerTenant !== undefined ? { maxPerTenant } : {}),
  });
const request = (id: string, tenant = 'acme'): CreateScheduleRequest => ({
  tenant,
  id,
  definitionId: 'report',
  cron: '0 9 * * 1-5',
  timezone: 'Europe/Paris',
  actor: 'operator:olga',
});

describe('ScheduleService', () => {
  it('answers a view with the defaults and the next fire in the zone, and keeps tenants apart', async () => {
    const schedules = service();
    expect(await schedules.create(request('daily'))).toMatchObject({
      id: 'daily',
      tenant: 'acme',
      overlap: 'skip',
      catchUp: 'latest',
      maxCatchUp: 10,
      createdAt: '2026-12-06T21:00:00.000Z',
      nextFireAt: '2026-12-07T08:00:00.000Z', // Monday 09:00 in Paris
      lastFire: null,
    });
    await schedules.create(request('daily', 'globex'));
    expect((await schedules.list('acme')).map((v) => v.tenant)).toEqual(['acme']);
    expect((await schedules.list()).map((v) => v.tenant)).toEqual(['acme', 'globex']);
    await schedules.delete({ tenant: 'globex', id: 'daily' }, 'operator:oscar');
    expect((await schedules.get({ tenant: 'acme', id: 'daily' })).status).toBe('active');
  });

  it('refuses a schedule past the limit per tenant (409 SCHEDULE.LIMIT_REACHED naming it); a delete makes room', async () => {
    const schedules = service(2);
    await schedules.create(request('one'));
    await schedules.create(request('two'));
    await schedules.create(request('other', 'globex'));
    await expect(schedules.create(request('three'))).rejects.toMatchObject({
      code: 'SCHEDULE.LIMIT_REACHED',
      message: 'tenant acme has 2 schedules, the limit: delete one before creating another',
      details: { limit: 2 },
    });
    await schedules.delete({ tenant: 'acme', id: 'one' }, 'operator:olga');
    expect((await schedules.create(request('three'))).id).toBe('three');
  });

  it('refuses a bad id or rule before anything is recorded, naming the field: no directory entry either', async () => {
    const store = createInMemoryEventStore();
    const schedules = new ScheduleService({ store, clock: { now: () => NOW }, definition: () => report });
    await expect(schedules.create(request('Nightly Report'))).rejects.toMatchObject({
      code: 'SCHEDULE.INVALID',
      details: { field: 'id' },
    });
    await expect(schedules.create({ ...request('bad'), cron: '* * * *' })).rejects.toMatchObject({
      code: 'SCHEDULE.INVALID',
      details: { field: 'cron' },
    });
    await expect(schedules.create({ ...request('bad'), timezone: 'Etc/Nowhere' })).rejects.toMatchObject({
      details: { field: 'timezone' },
    });
    expect(await store.readAll()).toEqual([]);
  });
});
