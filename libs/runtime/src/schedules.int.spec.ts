/**
 * Schedules on the embedded tier: the engine on the SQLite store fires a schedule every second, a pause stops it, a
 * delete removes it, and an engine started again on the same store (or two at once) never fires one fire twice.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInMemoryBus } from '@orchestron/bus';
import { createSqliteEventStore } from '@orchestron/store-sqlite';
import type { EventStore } from '@orchestron/event-store';
import { fireKey } from '@orchestron/workflow-core';
import type { ScheduleEvent } from '@orchestron/workflow-core';
import { createWorker } from '@orchestron/worker-sdk';
import type { Worker } from '@orchestron/worker-sdk';
import { Engine } from './engine.ts';
import { systemClock } from './ports.ts';
import { ScheduleService } from './schedule-service.ts';
import type { CreateScheduleRequest } from './schedule-service.ts';
import { scheduleStream } from './schedule-streams.ts';
import { SCHEDULER_ACTOR } from './scheduler.ts';

const definition = { id: 'tick-report', version: 1, steps: { report: { worker: 'w' } } };
/** A run that stays running (its one step waits for an approval), for overlap. */
const gated = { id: 'gated', version: 1, steps: { sign: { type: 'approval', assignees: ['role:operator'] } } };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Node {
  readonly engine: Engine;
  readonly store: EventStore;
  readonly schedules: ScheduleService;
  readonly worker: Worker;
}

describe('schedules on the embedded tier (SQLite store, in-process bus)', () => {
  const open: Node[] = [];
  afterEach(async () => {
    for (const node of open.splice(0)) await close(node);
  });
  const close = async (node: Node) => {
    await node.worker.stop();
    await node.engine.stop();
    await node.store.close();
  };

  const boot = async (path: string): Promise<Node> => {
    const store = createSqliteEventStore({ path });
    const bus = createInMemoryBus();
    const engine = new Engine({ store, bus, scheduleTickMs: 100 });
    const worker = createWorker({ name: 'w', bus, handlers: { execute: async () => ({ done: true }) } });
    await worker.start();
    await engine.start();
    await engine.definitions.register(definition, 'test');
    await engine.definitions.register(gated, 'test');
    const schedules = new ScheduleService({
      store,
      clock: systemClock,
      definition: (id, version, tenant) => engine.definitions.get(id, version ?? 'latest', tenant),
    });
    const node = { engine, store, schedules, worker };
    open.push(node);
    return node;
  };
  const fresh = () => join(mkdtempSync(join(tmpdir(), 'sched-embedded-')), 'events.sqlite');
  const everySecond = (over: Partial<CreateScheduleRequest> = {}): CreateScheduleRequest => ({
    tenant: 'default',
    id: 'tick',
    definitionId: 'tick-report',
    cron: '* * * * * *',
    timezone: 'UTC',
    input: { region: 'eu' },
    overlap: 'allow',
    catchUp: 'none',
    actor: 'operator:test',
    ...over,
  });

  /** Every ScheduleFired of the schedule, and every RunStarted a schedule fire started, from the store. */
  const recorded = async (store: EventStore, id = 'tick') => {
    const fired = (await store.readStream(scheduleStream({ tenant: 'default', id })))
      .map((e) => ({ type: e.type, data: e.data }) as ScheduleEvent)
      .flatMap((e) => (e.type === 'ScheduleFired' ? [e.data.idempotencyKey] : []));
    const started = (await store.readAll())
      .filter((e) => e.type === 'RunStarted')
      .map((e) => e.data as { idempotencyKey?: string; input: unknown })
      .filter((d) => d.idempotencyKey?.startsWith(`schedule:${id}:`));
    return { fired, started: started.map((d) => d.idempotencyKey as string), inputs: started.map((d) => d.input) };
  };
  const until = async (what: () => Promise<boolean>, ms = 8000) => {
    for (const end = Date.now() + ms; Date.now() < end; await sleep(50)) if (await what()) return;
    throw new Error('timed out');
  };

  it('fires every second: one run per fire, keyed by schedule and fire time, with the input; list shows the last fire', async () => {
    const node = await boot(fresh());
    const created = await node.schedules.create(everySecond());
    expect(created).toMatchObject({ id: 'tick', status: 'active', lastFire: null, fired: 0 });
    expect(Date.parse(created.nextFireAt as string)).toBeGreaterThan(Date.parse(created.createdAt));
    await until(async () => (await recorded(node.store)).started.length >= 3);
    const { fired, started, inputs } = await recorded(node.store);
    expect(new Set(fired).size).toBe(fired.length);
    expect(started.slice(0, 3)).toEqual(fired.slice(0, 3));
    expect(inputs[0]).toEqual({ region: 'eu' });
    for (const key of started) expect(key).toMatch(/^schedule:tick:\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/);
    const [view] = await node.schedules.list('default');
    expect(view?.fired).toBeGreaterThanOrEqual(3);
    const run = await node.engine.getRun(view?.lastFire?.runId as string);
    expect(run).toMatchObject({ idempotencyKey: view?.lastFire?.idempotencyKey, input: { region: 'eu' } });
    const [startedEvent] = await node.engine.history(view?.lastFire?.runId as string);
    expect(startedEvent?.metadata).toMatchObject({ actor: SCHEDULER_ACTOR });
  }, 20_000);

  it('a pause stops the fires and a resume starts them again; a delete removes the schedule for good', async () => {
    const node = await boot(fresh());
    await node.schedules.create(everySecond());
    await until(async () => (await recorded(node.store)).fired.length >= 1);
    const paused = await node.schedules.pause({ tenant: 'default', id: 'tick' }, 'operator:test', 'maintenance');
    expect(paused).toMatchObject({ status: 'paused', nextFireAt: null });
    const atPause = (await recorded(node.store)).fired.length;
    await sleep(2500);
    expect((await recorded(node.store)).fired.length).toBe(atPause);
    await node.schedules.resume({ tenant: 'default', id: 'tick' }, 'operator:test');
    await until(async () => (await recorded(node.store)).fired.length > atPause);
    await node.schedules.delete({ tenant: 'default', id: 'tick' }, 'operator:test');
    const atDelete = (await recorded(node.store)).fired.length;
    await sleep(2500);
    expect((await recorded(node.store)).fired.length).toBe(atDelete);
    expect(await node.schedules.list()).toEqual([]);
    await expect(node.schedules.get({ tenant: 'default', id: 'tick' })).rejects.toMatchObject({
      code: 'SCHEDULE.NOT_FOUND',
    });
    const { fired, started } = await recorded(node.store);
    expect(started.sort()).toEqual([...fired].sort());
  }, 20_000);

  it('an engine started again on the same store fires no fire twice, and catches up what was missed while down', async () => {
    const path = fresh();
    const first = await boot(path);
    await first.schedules.create(everySecond({ catchUp: 'all', maxCatchUp: 5 }));
    await until(async () => (await recorded(first.store)).fired.length >= 2);
    open.splice(open.indexOf(first), 1);
    await close(first);
    const before = await firedIn(path);
    await sleep(3000);
    const second = await boot(path);
    await until(async () => (await recorded(second.store)).fired.length >= before + 4);
    // A fire is recorded before its run starts: wait for the start of the last one recorded.
    await until(async () => {
      const { fired, started } = await recorded(second.store);
      return fired.every((key) => started.includes(key));
    });
    const { fired, started } = await recorded(second.store);
    expect(new Set(fired).size).toBe(fired.length);
    expect(new Set(started).size).toBe(started.length);
    expect([...started].sort()).toEqual([...fired].sort());
    // Catch-up `all` (at most 5) covered the 3 s the engine was down: the fire times are consecutive seconds.
    const seconds = fired.map((key) => Date.parse(key.slice('schedule:tick:'.length)) / 1000);
    expect(seconds.every((s, i) => i === 0 || s === (seconds[i - 1] as number) + 1)).toBe(true);
    const view = await second.schedules.get({ tenant: 'default', id: 'tick' });
    expect(view.lastFire).not.toBeNull();
  }, 30_000);

  it('two engines on one store at once: each fire is recorded and started once', async () => {
    const path = fresh();
    const a = await boot(path);
    const b = await boot(path);
    await a.schedules.create(everySecond({ definitionId: 'gated' }));
    await until(async () => (await recorded(a.store)).fired.length >= 4);
    const { fired, started } = await recorded(b.store);
    expect(new Set(fired).size).toBe(fired.length);
    expect(new Set(started).size).toBe(started.length);
  }, 20_000);

  it('a fire recorded but not started (a crash between the two) is started by the next engine', async () => {
    const path = fresh();
    const first = await boot(path);
    await first.schedules.create(everySecond({ cron: '0 0 1 1 *' }));
    open.splice(open.indexOf(first), 1);
    await close(first);
    const store = createSqliteEventStore({ path });
    const fireAt = Date.UTC(2026, 0, 1);
    const fired = { fireAt, idempotencyKey: fireKey('tick', fireAt), at: Date.now(), catchUp: false };
    await store.append(scheduleStream({ tenant: 'default', id: 'tick' }), [{ type: 'ScheduleFired', data: fired }]);
    await store.close();
    const second = await boot(path);
    const view = await second.schedules.get({ tenant: 'default', id: 'tick' });
    expect(view.lastFire?.idempotencyKey).toBe('schedule:tick:2026-01-01T00:00:00.000Z');
    await until(async () => (await second.engine.getRun(view.lastFire?.runId as string)) !== null);
  }, 20_000);

  it('a definition that declares schedules creates them when registered (<id>.<name>), once, and they fire', async () => {
    const node = await boot(fresh());
    const declaring = {
      id: 'declared',
      version: 1,
      steps: { report: { worker: 'w' } },
      schedules: { tick: { cron: '* * * * * *', timezone: 'UTC', input: { from: 'definition' }, overlap: 'allow' } },
    };
    await node.engine.definitions.register(declaring, 'operator:test');
    await node.engine.definitions.register(declaring, 'operator:test'); // the same again: no error, no second one
    const [view] = await node.schedules.list('default');
    expect(view).toMatchObject({
      id: 'declared.tick',
      definitionId: 'declared',
      definitionVersion: null,
      overlap: 'allow',
    });
    await until(async () => (await recorded(node.store, 'declared.tick')).started.length >= 2);
    expect((await recorded(node.store, 'declared.tick')).inputs[0]).toEqual({ from: 'definition' });
  }, 20_000);

  it('overlap skip: while the last fire run still runs, the fires are skipped and counted', async () => {
    const node = await boot(fresh());
    await node.schedules.create(everySecond({ definitionId: 'gated', overlap: 'skip' }));
    await until(async () => (await node.schedules.get({ tenant: 'default', id: 'tick' })).skipped >= 2);
    const view = await node.schedules.get({ tenant: 'default', id: 'tick' });
    expect(view.fired).toBe(1);
    expect((await recorded(node.store)).started).toHaveLength(1);
  }, 20_000);

  it('a fire whose run cannot start is recorded on the schedule with the reason, and the schedule goes on', async () => {
    const node = await boot(fresh());
    const strict = { ...definition, version: 2, input: { schema: { type: 'object', required: ['missing'] } } };
    await node.engine.definitions.register(strict, 'test');
    await node.schedules.create(everySecond({ id: 'strict', definitionVersion: 2 }));
    const failed = async () => (await node.schedules.get({ tenant: 'default', id: 'strict' })).lastFire?.failed;
    await until(async () => (await failed()) !== undefined);
    expect(await failed()).toMatchObject({ code: 'RUN.INPUT_INVALID' });
    await until(async () => (await node.schedules.get({ tenant: 'default', id: 'strict' })).fired >= 2);
  }, 20_000);
});

async function firedIn(path: string): Promise<number> {
  const store = createSqliteEventStore({ path });
  const events = await store.readStream(scheduleStream({ tenant: 'default', id: 'tick' }));
  await store.close();
  return events.filter((e) => e.type === 'ScheduleFired').length;
}
