/** The schedule decider, given/when/then over its events: next fire, catch-up after an outage, overlap. */
import { describe, expect, it } from '@jest/globals';
import { DomainError } from './errors.ts';
import { decideSchedule, isDue, nextFireOf } from './schedule-decide.ts';
import { fireKey, foldSchedule } from './schedule.ts';
import type { ScheduleCommand, ScheduleEvent, ScheduleSpec } from './schedule.ts';

/** 2026-01-05T09:00:00Z, a Monday. */
const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);
const SECOND = 1000;
const MINUTE = 60 * SECOND;

const spec = (over: Partial<ScheduleSpec> = {}): ScheduleSpec => ({
  definitionId: 'nightly-report',
  input: { region: 'eu' },
  cron: '* * * * *',
  timezone: 'UTC',
  overlap: 'allow',
  catchUp: 'none',
  maxCatchUp: 10,
  ...over,
});

const create = (over: Partial<ScheduleSpec> = {}, now = T0): ScheduleCommand => ({
  type: 'CreateSchedule',
  data: { id: 'report', tenant: 'acme', spec: spec(over) },
  now,
  actor: 'operator:ann',
});
const tick = (now: number, previousRunActive = false): ScheduleCommand => ({
  type: 'TickSchedule',
  data: { previousRunActive },
  now,
  actor: 'system:schedule',
});
const pause = (now: number): ScheduleCommand => ({ type: 'PauseSchedule', data: {}, now, actor: 'operator:ann' });
const resume = (now: number): ScheduleCommand => ({ type: 'ResumeSchedule', data: {}, now, actor: 'operator:ann' });
const remove = (now: number): ScheduleCommand => ({ type: 'DeleteSchedule', data: {}, now, actor: 'operator:ann' });

/** Runs the commands in order, each on the fold of everything before it; returns the whole history. */
function given(...commands: ScheduleCommand[]): ScheduleEvent[] {
  return commands.reduce<ScheduleEvent[]>(
    (history, command) => [...history, ...decideSchedule(command, foldSchedule(history))],
    [],
  );
}
const when = (history: ScheduleEvent[], command: ScheduleCommand) => decideSchedule(command, foldSchedule(history));
const fired = (events: ScheduleEvent[]) =>
  events.flatMap((e) => (e.type === 'ScheduleFired' ? [new Date(e.data.fireAt).toISOString()] : []));
const iso = (ms: number) => new Date(ms).toISOString();

describe('creating a schedule', () => {
  it('records the rule; the first fire is the first minute after creation', () => {
    const history = given(create({}, T0 + 20 * SECOND));
    expect(history).toEqual([
      {
        type: 'ScheduleCreated',
        data: { id: 'report', tenant: 'acme', spec: spec(), at: T0 + 20 * SECOND, by: 'operator:ann' },
      },
    ]);
    expect(nextFireOf(foldSchedule(history))).toBe(T0 + MINUTE);
  });

  it('reads the fields in its time zone: 09:00 in New York is 14:00 UTC in winter', () => {
    const history = given(create({ cron: '0 9 * * *', timezone: 'America/New_York' }));
    expect(iso(nextFireOf(foldSchedule(history)) as number)).toBe('2026-01-05T14:00:00.000Z');
  });

  it.each([
    ['61 * * * *', 'cron', /Invalid value for minute: 61/],
    ['bogus', 'cron', /"cron" is not a cron expression of 5 fields/],
    ['', 'cron', /"cron" must be a cron expression of 1 to 100 characters/],
    ['* * * * *\n* * * * *', 'cron', /control characters/],
    ['*'.repeat(101), 'cron', /1 to 100 characters/],
    ['0 0 30 2 *', 'cron', /never fires/],
    ['0 0 1 1 * 2099', 'cron', /not a cron expression/],
  ])('refuses the cron %j, naming the field', (cron, field, message) => {
    const error = thrown(() => given(create({ cron })));
    expect(error.code).toBe('SCHEDULE.INVALID');
    expect(error.details).toEqual({ field });
    expect(error.message).toMatch(message);
  });

  it.each([
    'Mars/Olympus',
    '../../etc/passwd',
    '+99:00',
    'UTC+25',
    '',
    'Europe/' + 'x'.repeat(80),
    'Europe/Paris\u0000',
  ])('refuses the time zone %j, naming the field', (timezone) => {
    const error = thrown(() => given(create({ timezone })));
    expect(error.code).toBe('SCHEDULE.INVALID');
    expect(error.details).toEqual({ field: 'timezone' });
    expect(error.message).toMatch(/"timezone" must be an IANA time zone/);
  });

  it.each([
    [{ overlap: 'sometimes' as never }, 'overlap', /"overlap" must be one of skip, buffer_one, allow/],
    [{ catchUp: 'most' as never }, 'catchUp', /"catchUp" must be one of none, latest, all/],
    [{ maxCatchUp: 101 }, 'maxCatchUp', /"maxCatchUp" must be an integer from 1 to 100/],
    [{ maxCatchUp: 0 }, 'maxCatchUp', /from 1 to 100/],
    [{ maxCatchUp: 2.5 }, 'maxCatchUp', /integer/],
  ])('refuses the policy %j, naming the field and the limit', (over, field, message) => {
    const error = thrown(() => given(create(over)));
    expect(error.details).toEqual({ field });
    expect(error.message).toMatch(message);
  });

  it('refuses a second schedule with the same id, and allows it again once deleted', () => {
    expect(thrown(() => given(create(), create())).code).toBe('SCHEDULE.ALREADY_EXISTS');
    expect(given(create(), remove(T0 + 1), create({}, T0 + 2)).at(-1)?.type).toBe('ScheduleCreated');
  });
});

describe('a tick', () => {
  it('fires nothing before the first fire time, then the fire that is due, keyed by schedule and fire time', () => {
    const history = given(create());
    expect(when(history, tick(T0 + 59 * SECOND))).toEqual([]);
    expect(isDue(foldSchedule(history), T0 + 59 * SECOND)).toBe(false);
    expect(isDue(foldSchedule(history), T0 + MINUTE)).toBe(true);
    expect(when(history, tick(T0 + MINUTE + 300))).toEqual([
      {
        type: 'ScheduleFired',
        data: {
          fireAt: T0 + MINUTE,
          idempotencyKey: 'schedule:report:2026-01-05T09:01:00.000Z',
          at: T0 + MINUTE + 300,
          catchUp: false,
        },
      },
    ]);
  });

  it('fires a fire once: a second tick after it has nothing to do until the next one', () => {
    const history = given(create(), tick(T0 + MINUTE));
    expect(when(history, tick(T0 + MINUTE + 30 * SECOND))).toEqual([]);
    expect(fired(when(history, tick(T0 + 2 * MINUTE)))).toEqual(['2026-01-05T09:02:00.000Z']);
  });

  it('a schedule every second fires every second', () => {
    const history = given(create({ cron: '* * * * * *' }), tick(T0 + 1200), tick(T0 + 2100), tick(T0 + 3050));
    expect(fired(history)).toEqual([iso(T0 + 1000), iso(T0 + 2000), iso(T0 + 3000)]);
    expect(new Set(history.flatMap((e) => (e.type === 'ScheduleFired' ? [e.data.idempotencyKey] : []))).size).toBe(3);
  });

  it('does nothing while paused, does not catch up the paused time on resume, and fires again after', () => {
    const history = given(create(), tick(T0 + MINUTE), pause(T0 + 90 * SECOND));
    expect(when(history, tick(T0 + 5 * MINUTE))).toEqual([]);
    expect(nextFireOf(foldSchedule(history))).toBeNull();
    const resumed = given(create(), tick(T0 + MINUTE), pause(T0 + 90 * SECOND), resume(T0 + 5 * MINUTE + 10 * SECOND));
    expect(when(resumed, tick(T0 + 5 * MINUTE + 20 * SECOND))).toEqual([]);
    expect(fired(when(resumed, tick(T0 + 6 * MINUTE)))).toEqual(['2026-01-05T09:06:00.000Z']);
  });

  it('pausing twice and resuming an active schedule change nothing', () => {
    const history = given(create(), pause(T0 + 1));
    expect(when(history, pause(T0 + 2))).toEqual([]);
    expect(when(given(create()), resume(T0 + 2))).toEqual([]);
  });

  it('a deleted schedule fires no more, and every command on it is SCHEDULE.NOT_FOUND', () => {
    const history = given(create(), remove(T0 + 1));
    expect(thrown(() => when(history, tick(T0 + MINUTE))).code).toBe('SCHEDULE.NOT_FOUND');
    expect(thrown(() => when(history, pause(T0 + MINUTE))).code).toBe('SCHEDULE.NOT_FOUND');
    expect(thrown(() => when([], resume(T0))).message).toBe('schedule "?" does not exist');
  });
});

describe('catch-up after an outage (nothing ticked from 09:00:30 to 09:05:30)', () => {
  const after = (over: Partial<ScheduleSpec>) => when(given(create(over)), tick(T0 + 5 * MINUTE + 30 * SECOND));

  it('none: the missed fires are skipped (the newest was 30 s ago, past LATE_AFTER_MS), recorded as catch_up', () => {
    const events = after({ catchUp: 'none' });
    expect(fired(events)).toEqual([]);
    expect(events).toEqual([
      {
        type: 'ScheduleFiresSkipped',
        data: { reason: 'catch_up', fireAts: [T0 + 5 * MINUTE], older: true, at: T0 + 5 * MINUTE + 30 * SECOND },
      },
    ]);
  });

  it('none: a fire noticed within LATE_AFTER_MS of its time still runs, the older ones do not', () => {
    const events = when(given(create({ catchUp: 'none' })), tick(T0 + 5 * MINUTE + 4 * SECOND));
    expect(fired(events)).toEqual(['2026-01-05T09:05:00.000Z']);
    expect(events[0]).toMatchObject({ type: 'ScheduleFiresSkipped', data: { fireAts: [], older: true } });
  });

  it('latest: one run for the whole outage, the newest missed fire, marked as a catch-up', () => {
    const events = after({ catchUp: 'latest' });
    expect(fired(events)).toEqual(['2026-01-05T09:05:00.000Z']);
    expect(events.find((e) => e.type === 'ScheduleFired')?.data).toMatchObject({ catchUp: true });
  });

  it('all: every missed fire, oldest first', () => {
    expect(fired(after({ catchUp: 'all' }))).toEqual([1, 2, 3, 4, 5].map((m) => iso(T0 + m * MINUTE)));
  });

  it('all: at most maxCatchUp of them, the newest; the older ones are skipped', () => {
    const events = after({ catchUp: 'all', maxCatchUp: 2 });
    expect(fired(events)).toEqual([iso(T0 + 4 * MINUTE), iso(T0 + 5 * MINUTE)]);
    expect(events[0]).toMatchObject({ type: 'ScheduleFiresSkipped', data: { reason: 'catch_up', older: true } });
  });

  it('all, every second, down for a week: bounded by maxCatchUp, computed without walking every missed second', () => {
    const history = given(create({ cron: '* * * * * *', catchUp: 'all', maxCatchUp: 100 }));
    const started = performance.now();
    const events = when(history, tick(T0 + 7 * 24 * 60 * MINUTE));
    expect(fired(events)).toHaveLength(100);
    expect(performance.now() - started).toBeLessThan(2000);
    expect(nextFireOf(foldSchedule([...history, ...events]))).toBe(T0 + 7 * 24 * 60 * MINUTE + SECOND);
  });
});

describe('overlap: the last fire run is still running when the next fire is due', () => {
  const running = (over: Partial<ScheduleSpec>) => given(create(over), tick(T0 + MINUTE));

  it('allow: it fires anyway', () => {
    expect(fired(when(running({ overlap: 'allow' }), tick(T0 + 2 * MINUTE, true)))).toEqual([iso(T0 + 2 * MINUTE)]);
  });

  it('skip: it is skipped, recorded with reason overlap; once the run ended the next fire runs', () => {
    const history = running({ overlap: 'skip' });
    expect(when(history, tick(T0 + 2 * MINUTE, true))).toEqual([
      {
        type: 'ScheduleFiresSkipped',
        data: { reason: 'overlap', fireAts: [T0 + 2 * MINUTE], older: false, at: T0 + 2 * MINUTE },
      },
    ]);
    const later = [...history, ...when(history, tick(T0 + 2 * MINUTE, true))];
    expect(fired(when(later, tick(T0 + 3 * MINUTE, false)))).toEqual([iso(T0 + 3 * MINUTE)]);
  });

  it('buffer_one: one fire waits for the run to end and then runs with its own fire time; a second one is skipped', () => {
    let history = running({ overlap: 'buffer_one' });
    history = [...history, ...when(history, tick(T0 + 2 * MINUTE, true))];
    expect(history.at(-1)).toEqual({
      type: 'ScheduleFireBuffered',
      data: { fireAt: T0 + 2 * MINUTE, at: T0 + 2 * MINUTE },
    });
    history = [...history, ...when(history, tick(T0 + 3 * MINUTE, true))];
    expect(history.at(-1)).toMatchObject({
      type: 'ScheduleFiresSkipped',
      data: { reason: 'overlap', fireAts: [T0 + 3 * MINUTE] },
    });
    expect(when(history, tick(T0 + 3 * MINUTE + 10 * SECOND, true))).toEqual([]);
    const ended = when(history, tick(T0 + 3 * MINUTE + 20 * SECOND, false));
    expect(ended).toEqual([
      {
        type: 'ScheduleFired',
        data: {
          fireAt: T0 + 2 * MINUTE,
          idempotencyKey: fireKey('report', T0 + 2 * MINUTE),
          at: T0 + 3 * MINUTE + 20 * SECOND,
          catchUp: false,
        },
      },
    ]);
  });

  it('skip with catch-up all: the first missed fire runs, the rest overlap it', () => {
    const events = when(given(create({ overlap: 'skip', catchUp: 'all' })), tick(T0 + 3 * MINUTE + 30 * SECOND));
    expect(fired(events)).toEqual([iso(T0 + MINUTE)]);
    expect(events.at(-1)).toMatchObject({ data: { reason: 'overlap', fireAts: [T0 + 2 * MINUTE, T0 + 3 * MINUTE] } });
  });

  it('pausing drops a buffered fire', () => {
    const history = given(
      create({ overlap: 'buffer_one' }),
      tick(T0 + MINUTE),
      tick(T0 + 2 * MINUTE, true),
      pause(T0 + 2 * MINUTE + 1),
    );
    const state = foldSchedule(history);
    expect(state.status === 'paused' && state.buffered).toBeNull();
  });
});

describe('the state', () => {
  it('keeps the last fire, the fires of the last tick, and counts fired and skipped', () => {
    const history = given(create({ catchUp: 'all' }), tick(T0 + 3 * MINUTE + 30 * SECOND));
    const failed = when(history, {
      type: 'RecordFireFailed',
      data: { fireAt: T0 + 3 * MINUTE, code: 'DEFINITION.NOT_FOUND', message: 'gone' },
      now: T0 + 4 * MINUTE,
      actor: 'system:schedule',
    });
    const state = foldSchedule([...history, ...failed]);
    if (state.status === 'none') throw new Error('no schedule');
    expect(state.lastBatch.map((f) => f.fireAt)).toEqual([1, 2, 3].map((m) => T0 + m * MINUTE));
    expect(state.lastFire).toMatchObject({ fireAt: T0 + 3 * MINUTE, failed: { code: 'DEFINITION.NOT_FOUND' } });
    expect([state.fired, state.skipped]).toEqual([3, 0]);
  });
});

function thrown(fn: () => unknown): DomainError {
  try {
    fn();
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error('expected a DomainError');
}
