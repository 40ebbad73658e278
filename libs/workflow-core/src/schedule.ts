/**
 * A schedule starts runs of a definition on a cron rule (docs/schedules.md). Its messages and state; the decider
 * is in schedule-decide.ts. Plain data: time comes in on every command (`now`), never from the clock.
 */
import type { CronRule } from '@orchestron/definitions';

import { CATCH_UP_POLICIES, DEFAULT_MAX_CATCH_UP, MAX_CATCH_UP, OVERLAP_POLICIES } from '@orchestron/definitions';
import type { CatchUpPolicy, OverlapPolicy } from '@orchestron/definitions';

export { CATCH_UP_POLICIES, DEFAULT_MAX_CATCH_UP, MAX_CATCH_UP, OVERLAP_POLICIES };
export type { CatchUpPolicy, OverlapPolicy };

/** A fire is missed when it is noticed more than this long after its time (a tick is never that slow). */
export const LATE_AFTER_MS = 10_000;

export interface ScheduleSpec extends CronRule {
  readonly definitionId: string;
  /** Absent: the definition's latest version at each fire. */
  readonly definitionVersion?: number;
  /** The input of every run it starts. */
  readonly input: unknown;
  readonly overlap: OverlapPolicy;
  readonly catchUp: CatchUpPolicy;
  /** With `catchUp: all`, how many missed fires run at most (1 to MAX_CATCH_UP). */
  readonly maxCatchUp: number;
}

export type ScheduleEvent =
  | { type: 'ScheduleCreated'; data: { id: string; tenant: string; spec: ScheduleSpec; at: number; by: string } }
  | { type: 'SchedulePaused'; data: { at: number; by: string; reason?: string } }
  | { type: 'ScheduleResumed'; data: { at: number; by: string } }
  | { type: 'ScheduleDeleted'; data: { at: number; by: string } }
  /** A run is started for this fire, with `idempotencyKey`: the same fire never starts two runs. */
  | { type: 'ScheduleFired'; data: { fireAt: number; idempotencyKey: string; at: number; catchUp: boolean } }
  /** The fire waits for the running run to end (`overlap: buffer_one`). */
  | { type: 'ScheduleFireBuffered'; data: { fireAt: number; at: number } }
  /** These fires start no run; `older`: fires before them in the same gap were skipped too, uncounted. */
  | {
      type: 'ScheduleFiresSkipped';
      data: { reason: 'catch_up' | 'overlap'; fireAts: number[]; older: boolean; at: number };
    }
  /** The run of a fire could not start (its definition gone, its input no longer valid): no retry. */
  | { type: 'ScheduleFireFailed'; data: { fireAt: number; code: string; message: string; at: number } };

export type ScheduleEventType = ScheduleEvent['type'];

export type ScheduleCommand =
  | { type: 'CreateSchedule'; data: { id: string; tenant: string; spec: ScheduleSpec }; now: number; actor: string }
  | { type: 'PauseSchedule'; data: { reason?: string }; now: number; actor: string }
  | { type: 'ResumeSchedule'; data: Record<string, never>; now: number; actor: string }
  | { type: 'DeleteSchedule'; data: Record<string, never>; now: number; actor: string }
  /** Fire what is due by `now`. `previousRunActive`: the last fire's run has not ended. */
  | { type: 'TickSchedule'; data: { previousRunActive: boolean }; now: number; actor: string }
  | { type: 'RecordFireFailed'; data: { fireAt: number; code: string; message: string }; now: number; actor: string };

export interface ScheduleFire {
  readonly fireAt: number;
  readonly idempotencyKey: string;
  /** When it was recorded; every fire recorded by one tick shares it. */
  readonly at: number;
  readonly catchUp: boolean;
  readonly failed?: { readonly code: string; readonly message: string };
}

export interface LiveSchedule {
  readonly status: 'active' | 'paused' | 'deleted';
  readonly id: string;
  readonly tenant: string;
  readonly spec: ScheduleSpec;
  readonly createdAt: number;
  /** Every fire up to here was fired, buffered or skipped; the next is the first after it. */
  readonly cursor: number;
  readonly lastFire: ScheduleFire | null;
  /** The fires of the last tick that fired (a crash between recording and starting them is repaired from these). */
  readonly lastBatch: readonly ScheduleFire[];
  readonly buffered: number | null;
  readonly fired: number;
  readonly skipped: number;
  readonly pausedAt: number | null;
}

export type ScheduleState = { readonly status: 'none' } | LiveSchedule;

export const initialScheduleState = (): ScheduleState => ({ status: 'none' });

/** The idempotency key of a fire's run: the schedule and the fire time, so history shows both. */
export function fireKey(scheduleId: string, fireAt: number): string {
  return `schedule:${scheduleId}:${new Date(fireAt).toISOString()}`;
}

export function evolveSchedule(state: ScheduleState, event: ScheduleEvent): ScheduleState {
  if (event.type === 'ScheduleCreated') return created(event.data);
  if (state.status === 'none') return state;
  switch (event.type) {
    case 'SchedulePaused':
      return { ...state, status: 'paused', pausedAt: event.data.at, buffered: null };
    case 'ScheduleResumed':
      return { ...state, status: 'active', pausedAt: null, cursor: Math.max(state.cursor, event.data.at) };
    case 'ScheduleDeleted':
      return { ...state, status: 'deleted', buffered: null };
    case 'ScheduleFired':
      return fired(state, event.data);
    case 'ScheduleFireBuffered':
      return { ...state, buffered: event.data.fireAt, cursor: Math.max(state.cursor, event.data.fireAt) };
    case 'ScheduleFiresSkipped':
      return {
        ...state,
        cursor: Math.max(state.cursor, ...event.data.fireAts),
        skipped: state.skipped + event.data.fireAts.length,
      };
    case 'ScheduleFireFailed':
      return failed(state, event.data);
    default:
      return unreachable(event);
  }
}

function created(data: { id: string; tenant: string; spec: ScheduleSpec; at: number }): LiveSchedule {
  return {
    status: 'active',
    id: data.id,
    tenant: data.tenant,
    spec: data.spec,
    createdAt: data.at,
    cursor: data.at,
    lastFire: null,
    lastBatch: [],
    buffered: null,
    fired: 0,
    skipped: 0,
    pausedAt: null,
  };
}

function fired(state: LiveSchedule, fire: ScheduleFire): LiveSchedule {
  const sameTick = state.lastFire !== null && state.lastFire.at === fire.at;
  return {
    ...state,
    lastFire: fire,
    lastBatch: sameTick ? [...state.lastBatch, fire] : [fire],
    cursor: Math.max(state.cursor, fire.fireAt),
    buffered: state.buffered === fire.fireAt ? null : state.buffered,
    fired: state.fired + 1,
  };
}

function failed(state: LiveSchedule, data: { fireAt: number; code: string; message: string }): LiveSchedule {
  const mark = (f: ScheduleFire): ScheduleFire =>
    f.fireAt === data.fireAt ? { ...f, failed: { code: data.code, message: data.message } } : f;
  return { ...state, lastFire: state.lastFire && mark(state.lastFire), lastBatch: state.lastBatch.map(mark) };
}

export function foldSchedule(events: readonly ScheduleEvent[]): ScheduleState {
  return events.reduce(evolveSchedule, initialScheduleState());
}

function unreachable(value: never): never {
  throw new Error(`unhandled schedule event ${JSON.stringify(value)}`);
}
