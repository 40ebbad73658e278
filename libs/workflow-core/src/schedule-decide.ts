/**
 * The schedule decider: `decideSchedule(command, state) → events`. Creating checks the rule; a tick works out which
 * fires are due, which of them were missed (catch-up) and what each does while the last run still runs (overlap).
 */
import { DomainError } from './errors.ts';
import { cronProblem, firesBetween, nextFireAfter } from '@orchestron/definitions';
import {
  CATCH_UP_POLICIES,
  fireKey,
  LATE_AFTER_MS,
  MAX_CATCH_UP,
  OVERLAP_POLICIES,
  type LiveSchedule,
  type ScheduleCommand,
  type ScheduleEvent,
  type ScheduleSpec,
  type ScheduleState,
} from './schedule.ts';

export function decideSchedule(command: ScheduleCommand, state: ScheduleState): ScheduleEvent[] {
  const { now, actor } = command;
  if (command.type === 'CreateSchedule') return create(command.data, state, now, actor);
  if (state.status === 'none' || state.status === 'deleted')
    throw new DomainError('SCHEDULE.NOT_FOUND', `schedule ${JSON.stringify(idOf(command, state))} does not exist`);
  switch (command.type) {
    case 'PauseSchedule':
      if (state.status === 'paused') return [];
      return [
        {
          type: 'SchedulePaused',
          data: { at: now, by: actor, ...(command.data.reason ? { reason: command.data.reason } : {}) },
        },
      ];
    case 'ResumeSchedule':
      return state.status === 'paused' ? [{ type: 'ScheduleResumed', data: { at: now, by: actor } }] : [];
    case 'DeleteSchedule':
      return [{ type: 'ScheduleDeleted', data: { at: now, by: actor } }];
    case 'TickSchedule':
      return state.status === 'active' ? tick(state, now, command.data.previousRunActive) : [];
    case 'RecordFireFailed':
      return [{ type: 'ScheduleFireFailed', data: { ...command.data, at: now } }];
    default:
      return unreachable(command);
  }
}

const idOf = (command: ScheduleCommand, state: ScheduleState): string =>
  state.status !== 'none' ? state.id : command.type === 'CreateSchedule' ? command.data.id : '?';

function create(
  data: { id: string; tenant: string; spec: ScheduleSpec },
  state: ScheduleState,
  now: number,
  by: string,
): ScheduleEvent[] {
  if (state.status === 'active' || state.status === 'paused')
    throw new DomainError('SCHEDULE.ALREADY_EXISTS', `schedule ${JSON.stringify(data.id)} already exists`, {
      scheduleId: data.id,
    });
  const problem = specProblem(data.spec, now);
  if (problem) throw new DomainError('SCHEDULE.INVALID', problem.message, { field: problem.field });
  return [{ type: 'ScheduleCreated', data: { ...data, at: now, by } }];
}

/** What is wrong with a schedule's rule and policies, naming the field; null when nothing is. */
export function specProblem(spec: ScheduleSpec, now: number): { field: string; message: string } | null {
  if (!OVERLAP_POLICIES.includes(spec.overlap))
    return { field: 'overlap', message: `"overlap" must be one of ${OVERLAP_POLICIES.join(', ')}` };
  if (!CATCH_UP_POLICIES.includes(spec.catchUp))
    return { field: 'catchUp', message: `"catchUp" must be one of ${CATCH_UP_POLICIES.join(', ')}` };
  if (!Number.isInteger(spec.maxCatchUp) || spec.maxCatchUp < 1 || spec.maxCatchUp > MAX_CATCH_UP)
    return { field: 'maxCatchUp', message: `"maxCatchUp" must be an integer from 1 to ${MAX_CATCH_UP}` };
  return cronProblem(spec, now);
}

/** When the schedule fires next (a time already past means at its next tick); null when paused, deleted or done. */
export function nextFireOf(state: ScheduleState): number | null {
  if (state.status !== 'active') return null;
  return nextFireAfter(state.spec, state.cursor);
}

/** Whether a tick at `now` has anything to do: a fire due, or a buffered fire waiting for the last run to end. */
export function isDue(state: ScheduleState, now: number): boolean {
  if (state.status !== 'active') return false;
  const next = nextFireOf(state);
  return state.buffered !== null || (next !== null && next <= now);
}

function tick(state: LiveSchedule, now: number, previousRunActive: boolean): ScheduleEvent[] {
  const { overlap, catchUp, maxCatchUp } = state.spec;
  const events: ScheduleEvent[] = [];
  let running = previousRunActive;
  let buffered = state.buffered;
  const fire = (fireAt: number, late: boolean): void => {
    events.push({
      type: 'ScheduleFired',
      data: { fireAt, idempotencyKey: fireKey(state.id, fireAt), at: now, catchUp: late },
    });
    running = true;
  };
  if (buffered !== null && !running) {
    fire(buffered, false);
    buffered = null;
  }
  const { fires: due, older } = firesBetween(state.spec, state.cursor, now, catchUp === 'all' ? maxCatchUp : 1);
  const newest = due.at(-1);
  if (newest === undefined) return events;
  const onTime = now - newest <= LATE_AFTER_MS;
  const toRun = catchUp === 'all' || catchUp === 'latest' || onTime ? due : [];
  const missed = due.filter((t) => !toRun.includes(t));
  if (missed.length > 0 || older) events.push(skipped('catch_up', missed, older, now));
  const overlapping: number[] = [];
  for (const fireAt of toRun) {
    if (overlap === 'allow' || !running) fire(fireAt, now - fireAt > LATE_AFTER_MS);
    else if (overlap === 'buffer_one' && buffered === null) {
      events.push({ type: 'ScheduleFireBuffered', data: { fireAt, at: now } });
      buffered = fireAt;
    } else overlapping.push(fireAt);
  }
  if (overlapping.length > 0) events.push(skipped('overlap', overlapping, false, now));
  return events;
}

function skipped(reason: 'catch_up' | 'overlap', fireAts: number[], older: boolean, at: number): ScheduleEvent {
  return { type: 'ScheduleFiresSkipped', data: { reason, fireAts, older, at } };
}

function unreachable(value: never): never {
  throw new Error(`unhandled schedule command ${JSON.stringify(value)}`);
}
