/** How folding an event changes a run's timers: one set by its id, a step's dropped by phase, kind or attempt. */
import type { Phase, Timer, TimerKind } from './messages.ts';
import type { RunData } from './state.ts';

/** Sets the timer by its id: arming one the state already has, as an old history does after a dispatch, is a no-op. */
export function arm(s: RunData, timer: Timer | null): RunData {
  return timer === null ? s : { ...s, timers: { ...s.timers, [timer.id]: timer } };
}

export function dropTimers(s: RunData, stepId: string, phase: Phase, includeApproval = false): RunData {
  return dropWhere(
    s,
    (timer) =>
      timer.stepId === stepId && timer.phase === phase && (includeApproval || timer.kind !== 'approval_timeout'),
  );
}

/** Drops a step's timers of the given kinds in one phase (of one attempt, when given). */
export function dropKinds(
  s: RunData,
  stepId: string,
  phase: Phase,
  kinds: readonly TimerKind[],
  attempt?: number,
): RunData {
  return dropWhere(
    s,
    (timer) =>
      timer.stepId === stepId &&
      timer.phase === phase &&
      kinds.includes(timer.kind) &&
      (attempt === undefined || timer.attempt === attempt),
  );
}

/**
 * The state without the timers `drop` picks; the same state when it picks none. A wide run has a timer per running
 * step and every event of a step looks for its own, so the common case (none to drop) allocates nothing.
 */
function dropWhere(s: RunData, drop: (timer: Timer) => boolean): RunData {
  let doomed: string[] | undefined;
  for (const id in s.timers) if (drop(s.timers[id] as Timer)) (doomed ??= []).push(id);
  if (doomed === undefined) return s;
  const timers = { ...s.timers };
  for (const id of doomed) delete timers[id];
  return { ...s, timers };
}
