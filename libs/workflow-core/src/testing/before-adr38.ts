/**
 * Histories as the decider recorded them before ADR 38, when a TimerScheduled followed each event that sets a due
 * time (an attempt sent or released, a retry scheduled, and before ADR 39 a governance check requested, which did
 * not carry its deadline then), and the check that they fold as the histories of today do. The timers are spelled
 * out here as the decider built them then, not taken from the code that arms them now.
 */
import { expect } from '@jest/globals';
import { evolve, initialState, isStarted, outstanding } from '../index.ts';
import type { Phase, RunState, Timer, WorkflowEvent } from '../index.ts';

const scope = (phase: Phase): string => (phase === 'execute' ? '' : 'compensate:');
const scheduled = (timer: Timer): WorkflowEvent => ({ type: 'TimerScheduled', data: { timer } });

/** The TimerScheduled the decider recorded right after this event, before ADR 38; null when there was none. */
export function scheduledAfter(event: WorkflowEvent): WorkflowEvent | null {
  switch (event.type) {
    case 'StepDispatched':
    case 'StepReleased': {
      const { stepId, attempt, phase, timeoutAt } = event.data;
      if (timeoutAt === null) return null;
      const what = event.type === 'StepDispatched' ? 'timeout' : `timeout@${timeoutAt}`;
      const id = `${scope(phase)}${stepId}:${attempt}:${what}`;
      return scheduled({ id, kind: 'attempt_timeout', stepId, attempt, phase, dueAt: timeoutAt });
    }
    case 'StepRetryScheduled': {
      const { stepId, phase, nextAttempt, retryAt } = event.data;
      const id = `${scope(phase)}${stepId}:${nextAttempt}:retry`;
      return scheduled({ id, kind: 'retry', stepId, attempt: nextAttempt, phase, dueAt: retryAt });
    }
    case 'GovernanceCheckRequested': {
      const { stepId, attempt, timeoutAt } = event.data;
      if (attempt === undefined || timeoutAt === undefined) return null;
      const id = `${stepId}:${attempt}:governance@${timeoutAt}`;
      return scheduled({ id, kind: 'governance_timeout', stepId, attempt, phase: 'execute', dueAt: timeoutAt });
    }
    default:
      return null;
  }
}

/** The event as it was recorded then: a governance check request did not carry its attempt and deadline. */
export function recordedThen(event: WorkflowEvent): WorkflowEvent {
  if (event.type !== 'GovernanceCheckRequested') return event;
  const { attempt: _attempt, timeoutAt: _timeoutAt, ...data } = event.data;
  return { ...event, data };
}

/** A history of today as it was recorded before ADR 38. */
export function asRecordedBefore(events: readonly WorkflowEvent[]): WorkflowEvent[] {
  return events.flatMap((event) => {
    const timer = scheduledAfter(event);
    return timer === null ? [event] : [recordedThen(event), timer];
  });
}

/** The version counts the events folded, so it differs between the two; everything else must not. */
const apartFromVersion = (s: RunState): RunState => (isStarted(s) ? { ...s, version: 0 } : s);

/**
 * Folds a history of today and one recorded before ADR 38 side by side, and expects the same state, timers included,
 * after each event of today's (with the TimerScheduled that followed it then). Each version still counts its events.
 * With `recovery`, also what recovery would do again at each of those points.
 */
export function expectSameFolds(
  now: readonly WorkflowEvent[],
  before: readonly WorkflowEvent[],
  o: { readonly recovery?: boolean } = {},
): void {
  let a: RunState = initialState();
  let b: RunState = initialState();
  let j = 0;
  for (const [i, event] of now.entries()) {
    const then = before[j] as WorkflowEvent;
    expectEqual(then, recordedThen(event));
    a = evolve(a, event);
    b = evolve(b, then);
    j++;
    // What only the history recorded before has: the TimerScheduled after the event.
    const extra = before[j];
    if (extra !== undefined && extra.type === 'TimerScheduled' && !sameEvent(extra, now[i + 1])) {
      b = evolve(b, extra);
      j++;
    }
    expectEqual(apartFromVersion(b), apartFromVersion(a));
    if (isStarted(a) && isStarted(b)) expect([a.version, b.version]).toEqual([i + 1, j]);
    if (o.recovery === true) {
      const { state: _a, ...redoNow } = outstanding(now.slice(0, i + 1));
      const { state: _b, ...redoBefore } = outstanding(before.slice(0, j));
      expect(redoBefore).toEqual(redoNow);
    }
  }
  expect(j).toBe(before.length);
}

function sameEvent(x: WorkflowEvent, y: WorkflowEvent | undefined): boolean {
  return y !== undefined && JSON.stringify(x) === JSON.stringify(y);
}

/** `toEqual`, which is slow over thousands of states, only when the JSON differs (it may in key order alone). */
function expectEqual(actual: unknown, expected: unknown): void {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) expect(actual).toEqual(expected);
}
