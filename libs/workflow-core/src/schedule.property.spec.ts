/**
 * The schedule decider's invariants over random histories: random rules and policies, ticks at random times (a
 * process that stalls, a restart hours later), pauses, resumes, and runs that end or do not.
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { nextFireAfter } from '@orchestron/definitions';
import { decideSchedule } from './schedule-decide.ts';
import { evolveSchedule, initialScheduleState } from './schedule.ts';
import type { ScheduleCommand, ScheduleEvent, ScheduleSpec, ScheduleState } from './schedule.ts';

const T0 = Date.UTC(2026, 2, 28, 22, 0, 0); // the night Europe/Paris skips 02:00–03:00
const CRONS = ['* * * * * *', '*/7 * * * * *', '* * * * *', '*/5 * * * *', '30 2 * * *', '0 */2 * * *'];
const ZONES = ['UTC', 'Europe/Paris', 'America/New_York', 'Asia/Kolkata'];

const spec = fc.record<ScheduleSpec>({
  definitionId: fc.constant('report'),
  input: fc.constant(null),
  cron: fc.constantFrom(...CRONS),
  timezone: fc.constantFrom(...ZONES),
  overlap: fc.constantFrom('skip', 'buffer_one', 'allow'),
  catchUp: fc.constantFrom('none', 'latest', 'all'),
  maxCatchUp: fc.integer({ min: 1, max: 5 }),
});
/** After creation: the gap to the next command (up to 6 h), what it is, and whether the last run still runs. */
const step = fc.record({
  gap: fc.oneof(fc.integer({ min: 0, max: 3_000 }), fc.integer({ min: 0, max: 6 * 3_600_000 })),
  kind: fc.constantFrom('tick', 'tick', 'tick', 'tick', 'pause', 'resume'),
  active: fc.boolean(),
});

interface Played {
  readonly events: { event: ScheduleEvent; command: ScheduleCommand; before: ScheduleState }[];
}

function play(rule: ScheduleSpec, steps: { gap: number; kind: string; active: boolean }[]): Played {
  let state: ScheduleState = initialScheduleState();
  let now = T0;
  const events: Played['events'] = [];
  const commands: ScheduleCommand[] = [
    { type: 'CreateSchedule', data: { id: 's', tenant: 't', spec: rule }, now, actor: 'a' },
  ];
  for (const s of steps) {
    now += s.gap;
    const base = { now, actor: 'a' };
    if (s.kind === 'pause') commands.push({ type: 'PauseSchedule', data: {}, ...base });
    else if (s.kind === 'resume') commands.push({ type: 'ResumeSchedule', data: {}, ...base });
    else commands.push({ type: 'TickSchedule', data: { previousRunActive: s.active }, ...base });
  }
  for (const command of commands) {
    const before = state;
    for (const event of decideSchedule(command, state)) {
      events.push({ event, command, before });
      state = evolveSchedule(state, event);
    }
  }
  return { events };
}

const fireTimes = (played: Played) =>
  played.events.flatMap(({ event }) => (event.type === 'ScheduleFired' ? [event.data.fireAt] : []));

describe('the schedule decider, over random histories', () => {
  it('never fires one fire time twice, and every fire time is one of the rule', () => {
    fc.assert(
      fc.property(spec, fc.array(step, { maxLength: 40 }), (rule, steps) => {
        const fired = fireTimes(play(rule, steps));
        expect(new Set(fired).size).toBe(fired.length);
        for (const t of fired) expect(nextFireAfter(rule, t - 1)).toBe(t);
      }),
      { numRuns: 300 },
    );
  });

  it('fires nothing for a time before its creation, while paused, or before it fell due', () => {
    fc.assert(
      fc.property(spec, fc.array(step, { maxLength: 40 }), (rule, steps) => {
        for (const { event, command, before } of play(rule, steps).events) {
          if (event.type !== 'ScheduleFired' || before.status === 'none') continue;
          expect(before.status).toBe('active');
          expect(event.data.fireAt).toBeGreaterThan(before.createdAt);
          expect(event.data.fireAt).toBeLessThanOrEqual(command.now);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('a tick starts at most maxCatchUp fires (plus a buffered one), and with skip none while the last run runs', () => {
    fc.assert(
      fc.property(spec, fc.array(step, { maxLength: 40 }), (rule, steps) => {
        const byTick = new Map<ScheduleCommand, ScheduleEvent[]>();
        for (const { event, command } of play(rule, steps).events)
          byTick.set(command, [...(byTick.get(command) ?? []), event]);
        for (const [command, events] of byTick) {
          if (command.type !== 'TickSchedule') continue;
          const fired = events.filter((e) => e.type === 'ScheduleFired').length;
          expect(fired).toBeLessThanOrEqual((rule.catchUp === 'all' ? rule.maxCatchUp : 1) + 1);
          if (rule.overlap === 'skip' && command.data.previousRunActive) expect(fired).toBe(0);
          if (rule.overlap === 'buffer_one' && command.data.previousRunActive) expect(fired).toBe(0);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('every due fire is accounted for (fired, buffered, or skipped), and none falls in a paused time', () => {
    fc.assert(
      fc.property(spec, fc.array(step, { maxLength: 30 }), (rule, steps) => {
        const byTick = new Map<ScheduleCommand, { before: ScheduleState; events: ScheduleEvent[] }>();
        const paused: [number, number][] = [];
        for (const { event, command, before } of play(rule, steps).events) {
          byTick.set(command, { before, events: [...(byTick.get(command)?.events ?? []), event] });
          if (event.type === 'SchedulePaused') paused.push([event.data.at, Infinity]);
          if (event.type === 'ScheduleResumed') (paused.at(-1) as [number, number])[1] = event.data.at;
        }
        for (const [command, { before, events }] of byTick) {
          if (command.type !== 'TickSchedule' || before.status !== 'active') continue;
          const due = dueBetween(rule, before.cursor, command.now);
          if (due === null) continue;
          const accounted = events.flatMap((e) =>
            e.type === 'ScheduleFiresSkipped'
              ? e.data.fireAts
              : e.type === 'ScheduleFired' || e.type === 'ScheduleFireBuffered'
                ? [e.data.fireAt]
                : [],
          );
          const older = events.some((e) => e.type === 'ScheduleFiresSkipped' && e.data.older);
          // A buffered fire from before the cursor fires in this tick too; the oldest of this tick's due ones is what counts.
          const oldest = Math.min(...accounted.filter((t) => t > before.cursor));
          for (const t of due) expect(accounted.includes(t) || (older && t < oldest)).toBe(true);
          for (const e of events)
            if (e.type === 'ScheduleFired')
              expect(paused.some(([from, to]) => e.data.fireAt > from && e.data.fireAt <= to)).toBe(false);
        }
      }),
      { numRuns: 200 },
    );
  });
});

/** The rule's fires in (after, upTo], walked one by one; null past 200 (too many to walk in a test). */
function dueBetween(rule: ScheduleSpec, after: number, upTo: number): number[] | null {
  const due: number[] = [];
  for (let t = nextFireAfter(rule, after); t !== null && t <= upTo; t = nextFireAfter(rule, t)) {
    if (due.length === 200) return null;
    due.push(t);
  }
  return due;
}
