/**
 * ADR 38: the events that set a due time (an attempt sent or released, a retry scheduled) arm its timer when folded,
 * and the decider no longer records a TimerScheduled after them. Histories recorded before have both, and must fold
 * to the same state: a TimerScheduled that sets a timer the state already has, the same, changes nothing.
 */
import { describe, expect, it } from '@jest/globals';
import { evolve, fold } from './index.ts';
import type { WorkflowEvent } from './index.ts';
import { asRecordedBefore, expectSameFolds } from './testing/before-adr38.ts';
import {
  fireTimer,
  holdStep,
  play,
  releaseStep,
  startRun,
  stateOf,
  stepCompleted,
  stepFailed,
  stepStarted,
  T0,
  workflow,
} from './testing/decider-spec.ts';

const at = (ms: number) => ({ now: T0 + ms });

/** A held and released attempt that times out and retries, then a compensation held, released by a report, retried. */
const def = workflow(
  {
    a: {
      worker: 'w',
      compensate: {
        worker: 'w',
        action: 'undo',
        retry: { maxAttempts: 2, backoff: 'fixed', initialDelay: '5s', jitter: 'none' },
      },
    },
    b: { worker: 'w', needs: ['a'], heartbeatTimeout: '10s' },
  },
  { onFailure: 'compensate' },
);
const commands = [
  startRun(def, { n: 1 }),
  holdStep('a', at(10)),
  releaseStep('a', at(1_000)),
  fireTimer(`a:1:timeout@${T0 + 31_000}`, at(31_000)),
  fireTimer('a:2:retry', at(32_000)),
  stepCompleted('a', { attempt: 2, ...at(33_000) }),
  stepStarted('b', at(34_000)),
  stepFailed('b', { error: { retryable: false }, ...at(35_000) }),
  holdStep('a', { phase: 'compensate', ...at(36_000) }),
  stepStarted('a', { phase: 'compensate', ...at(37_000) }),
  stepFailed('a', { phase: 'compensate', ...at(38_000) }),
  fireTimer('compensate:a:2:retry', at(43_000)),
  stepCompleted('a', { phase: 'compensate', attempt: 2, ...at(44_000) }),
];

/** What the decider of commit 7511309 (before ADR 38) recorded for `commands`, as it recorded it. */
const RECORDED: WorkflowEvent[] = [
  {
    type: 'RunStarted',
    data: { runId: 'run-1', definition: def, input: { n: 1 }, idempotencyKey: null, startedBy: 'anonymous', at: T0 },
  },
  {
    type: 'StepDispatched',
    data: {
      stepId: 'a',
      attempt: 1,
      phase: 'execute',
      worker: 'w',
      action: null,
      input: { n: 1 },
      idempotencyKey: 'run-1/a/1',
      timeoutAt: T0 + 30_000,
      at: T0,
    },
  },
  {
    type: 'TimerScheduled',
    data: {
      timer: {
        id: 'a:1:timeout',
        kind: 'attempt_timeout',
        stepId: 'a',
        attempt: 1,
        phase: 'execute',
        dueAt: T0 + 30_000,
      },
    },
  },
  {
    type: 'StepHeld',
    data: { stepId: 'a', attempt: 1, phase: 'execute', reason: 'breaker_open', worker: 'w', at: T0 + 10 },
  },
  {
    type: 'StepReleased',
    data: {
      stepId: 'a',
      attempt: 1,
      phase: 'execute',
      worker: 'w',
      action: null,
      input: { n: 1 },
      idempotencyKey: 'run-1/a/1',
      timeoutAt: T0 + 31_000,
      send: true,
      at: T0 + 1_000,
    },
  },
  {
    type: 'TimerScheduled',
    data: {
      timer: {
        id: `a:1:timeout@${T0 + 31_000}`,
        kind: 'attempt_timeout',
        stepId: 'a',
        attempt: 1,
        phase: 'execute',
        dueAt: T0 + 31_000,
      },
    },
  },
  { type: 'TimerFired', data: { timerId: `a:1:timeout@${T0 + 31_000}`, at: T0 + 31_000 } },
  {
    type: 'StepAttemptFailed',
    data: {
      stepId: 'a',
      attempt: 1,
      phase: 'execute',
      error: { code: 'STEP.TIMED_OUT', message: 'the attempt outlived its timeout', retryable: true },
      at: T0 + 31_000,
    },
  },
  { type: 'StepRetryScheduled', data: { stepId: 'a', phase: 'execute', nextAttempt: 2, retryAt: T0 + 32_000 } },
  {
    type: 'TimerScheduled',
    data: { timer: { id: 'a:2:retry', kind: 'retry', stepId: 'a', attempt: 2, phase: 'execute', dueAt: T0 + 32_000 } },
  },
  { type: 'TimerFired', data: { timerId: 'a:2:retry', at: T0 + 32_000 } },
  {
    type: 'StepDispatched',
    data: {
      stepId: 'a',
      attempt: 2,
      phase: 'execute',
      worker: 'w',
      action: null,
      input: { n: 1 },
      idempotencyKey: 'run-1/a/2',
      timeoutAt: T0 + 62_000,
      at: T0 + 32_000,
    },
  },
  {
    type: 'TimerScheduled',
    data: {
      timer: {
        id: 'a:2:timeout',
        kind: 'attempt_timeout',
        stepId: 'a',
        attempt: 2,
        phase: 'execute',
        dueAt: T0 + 62_000,
      },
    },
  },
  { type: 'StepCompleted', data: { stepId: 'a', attempt: 2, output: { ok: 'a' }, at: T0 + 33_000 } },
  {
    type: 'StepDispatched',
    data: {
      stepId: 'b',
      attempt: 1,
      phase: 'execute',
      worker: 'w',
      action: null,
      input: { n: 1 },
      idempotencyKey: 'run-1/b/1',
      timeoutAt: T0 + 63_000,
      at: T0 + 33_000,
    },
  },
  {
    type: 'TimerScheduled',
    data: {
      timer: {
        id: 'b:1:timeout',
        kind: 'attempt_timeout',
        stepId: 'b',
        attempt: 1,
        phase: 'execute',
        dueAt: T0 + 63_000,
      },
    },
  },
  { type: 'StepStarted', data: { stepId: 'b', attempt: 1, phase: 'execute', at: T0 + 34_000 } },
  {
    type: 'TimerScheduled',
    data: {
      timer: {
        id: `b:1:heartbeat@${T0 + 44_000}`,
        kind: 'heartbeat_timeout',
        stepId: 'b',
        attempt: 1,
        phase: 'execute',
        dueAt: T0 + 44_000,
      },
    },
  },
  {
    type: 'StepAttemptFailed',
    data: {
      stepId: 'b',
      attempt: 1,
      phase: 'execute',
      error: { code: 'WORKER.ERROR', message: 'b broke', retryable: false },
      at: T0 + 35_000,
    },
  },
  {
    type: 'StepFailed',
    data: {
      stepId: 'b',
      attempt: 1,
      error: { code: 'WORKER.ERROR', message: 'b broke', retryable: false },
      at: T0 + 35_000,
    },
  },
  { type: 'CompensationStarted', data: { cause: 'step "b" failed: WORKER.ERROR: b broke', by: null, at: T0 + 35_000 } },
  {
    type: 'StepDispatched',
    data: {
      stepId: 'a',
      attempt: 1,
      phase: 'compensate',
      worker: 'w',
      action: 'undo',
      input: { input: { n: 1 }, output: { ok: 'a' } },
      idempotencyKey: 'run-1/a/compensate/1',
      timeoutAt: T0 + 65_000,
      at: T0 + 35_000,
    },
  },
  {
    type: 'TimerScheduled',
    data: {
      timer: {
        id: 'compensate:a:1:timeout',
        kind: 'attempt_timeout',
        stepId: 'a',
        attempt: 1,
        phase: 'compensate',
        dueAt: T0 + 65_000,
      },
    },
  },
  {
    type: 'StepHeld',
    data: { stepId: 'a', attempt: 1, phase: 'compensate', reason: 'breaker_open', worker: 'w', at: T0 + 36_000 },
  },
  {
    type: 'StepReleased',
    data: {
      stepId: 'a',
      attempt: 1,
      phase: 'compensate',
      worker: 'w',
      action: 'undo',
      input: { input: { n: 1 }, output: { ok: 'a' } },
      idempotencyKey: 'run-1/a/compensate/1',
      timeoutAt: T0 + 67_000,
      send: false,
      at: T0 + 37_000,
    },
  },
  {
    type: 'TimerScheduled',
    data: {
      timer: {
        id: `compensate:a:1:timeout@${T0 + 67_000}`,
        kind: 'attempt_timeout',
        stepId: 'a',
        attempt: 1,
        phase: 'compensate',
        dueAt: T0 + 67_000,
      },
    },
  },
  {
    type: 'StepAttemptFailed',
    data: {
      stepId: 'a',
      attempt: 1,
      phase: 'compensate',
      error: { code: 'WORKER.ERROR', message: 'a broke', retryable: true },
      at: T0 + 38_000,
    },
  },
  { type: 'StepRetryScheduled', data: { stepId: 'a', phase: 'compensate', nextAttempt: 2, retryAt: T0 + 43_000 } },
  {
    type: 'TimerScheduled',
    data: {
      timer: {
        id: 'compensate:a:2:retry',
        kind: 'retry',
        stepId: 'a',
        attempt: 2,
        phase: 'compensate',
        dueAt: T0 + 43_000,
      },
    },
  },
  { type: 'TimerFired', data: { timerId: 'compensate:a:2:retry', at: T0 + 43_000 } },
  {
    type: 'StepDispatched',
    data: {
      stepId: 'a',
      attempt: 2,
      phase: 'compensate',
      worker: 'w',
      action: 'undo',
      input: { input: { n: 1 }, output: { ok: 'a' } },
      idempotencyKey: 'run-1/a/compensate/2',
      timeoutAt: T0 + 73_000,
      at: T0 + 43_000,
    },
  },
  {
    type: 'TimerScheduled',
    data: {
      timer: {
        id: 'compensate:a:2:timeout',
        kind: 'attempt_timeout',
        stepId: 'a',
        attempt: 2,
        phase: 'compensate',
        dueAt: T0 + 73_000,
      },
    },
  },
  { type: 'CompensationCompleted', data: { stepId: 'a', attempt: 2, output: { ok: 'a' }, at: T0 + 44_000 } },
  { type: 'RunCompensated', data: { compensated: ['a'], at: T0 + 44_000 } },
];

describe('a history recorded before the events that set a due time armed its timer', () => {
  const now = play([], ...commands);

  it('is the history recorded now with a TimerScheduled after each dispatch, release and retry, and only those', () => {
    expect(asRecordedBefore(now)).toEqual(RECORDED);
    expect(RECORDED.length - now.length).toBe(9);
    expect(now.filter((e) => e.type === 'TimerScheduled').map((e) => e.data.timer.kind)).toEqual(['heartbeat_timeout']);
  });

  it('folds to the same state as the history recorded now, timers included, after every event', () => {
    expectSameFolds(now, RECORDED, { recovery: true });
    expect(fold(RECORDED)).toEqual({ ...fold(now), version: RECORDED.length });
  });

  it('arms the same timers at the points where a run has them', () => {
    const upTo = (type: WorkflowEvent['type'], nth = 0) =>
      now.indexOf(now.filter((e) => e.type === type)[nth] as WorkflowEvent) + 1;
    const timersAt = (n: number) => Object.keys(stateOf(now.slice(0, n)).timers);
    expect(timersAt(upTo('StepDispatched'))).toEqual(['a:1:timeout']);
    expect(timersAt(upTo('StepReleased'))).toEqual([`a:1:timeout@${T0 + 31_000}`]);
    expect(timersAt(upTo('StepRetryScheduled'))).toEqual(['a:2:retry']);
    expect(timersAt(upTo('StepDispatched', 2))).toEqual(['b:1:timeout']);
    expect(timersAt(upTo('StepReleased', 1))).toEqual([`compensate:a:1:timeout@${T0 + 67_000}`]);
    expect(timersAt(upTo('StepRetryScheduled', 1))).toEqual(['compensate:a:2:retry']);
  });

  it('a TimerScheduled of a timer the state has, the same, changes nothing but the count of events', () => {
    const dispatched = fold(now.slice(0, 2));
    const again = RECORDED[2] as WorkflowEvent;
    expect(again.type).toBe('TimerScheduled');
    expect(evolve(dispatched, again)).toEqual({ ...dispatched, version: 3 });
  });
});
