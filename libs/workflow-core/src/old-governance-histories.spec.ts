/**
 * ADR 39: a governance check request carries its attempt and deadline, and folding it arms governance's deadline; the
 * decider no longer records a TimerScheduled after it. Requests recorded before have neither field and a
 * TimerScheduled right after them, and must fold to the same state.
 */
import { describe, expect, it } from '@jest/globals';
import { fold, inputDigest } from './index.ts';
import type { WorkflowEvent } from './index.ts';
import { asRecordedBefore, expectSameFolds } from './testing/before-adr38.ts';
import {
  fireTimer,
  given,
  governance,
  play,
  retryStep,
  startRun,
  stepCompleted,
  T0,
  workflow,
} from './testing/decider-spec.ts';

const at = (ms: number) => ({ now: T0 + ms });
const MINUTE = 60_000;

/** Two governed steps; governance misses the first deadline, an operator asks again, then it allows both. */
const def = workflow({
  a: { worker: 'w', sideEffect: true },
  b: { worker: 'w', needs: ['a'], sideEffect: true, governanceTimeout: '30s' },
});
const now = play(
  [],
  startRun(def, { n: 1 }),
  fireTimer(`a:1:governance@${T0 + MINUTE}`, at(MINUTE)),
  retryStep('a', { actor: 'ops:ada', ...at(MINUTE + 1_000) }),
  governance('a', 'allow', at(MINUTE + 2_000)),
  stepCompleted('a', at(MINUTE + 3_000)),
  governance('b', 'allow', at(MINUTE + 4_000)),
  stepCompleted('b', at(MINUTE + 5_000)),
);

/** The first request and its deadline as the decider recorded them before ADR 39. */
const RECORDED_THEN: WorkflowEvent[] = [
  {
    type: 'GovernanceCheckRequested',
    data: { stepId: 'a', worker: 'w', action: null, input: { n: 1 }, inputDigest: inputDigest({ n: 1 }), at: T0 },
  },
  {
    type: 'TimerScheduled',
    data: {
      timer: {
        id: `a:1:governance@${T0 + MINUTE}`,
        kind: 'governance_timeout',
        stepId: 'a',
        attempt: 1,
        phase: 'execute',
        dueAt: T0 + MINUTE,
      },
    },
  },
];

describe('a governance request recorded before it carried its deadline', () => {
  it('is recorded now with the attempt and the deadline on the request, and no TimerScheduled at all', () => {
    expect(now.filter((e) => e.type === 'TimerScheduled')).toEqual([]);
    const asked = now.flatMap((e) => (e.type === 'GovernanceCheckRequested' ? [e.data] : []));
    expect(asked.map(({ stepId, attempt, timeoutAt }) => [stepId, attempt, timeoutAt])).toEqual([
      ['a', 1, T0 + MINUTE],
      ['a', 1, T0 + 2 * MINUTE + 1_000],
      ['b', 1, T0 + MINUTE + 33_000],
    ]);
  });

  it('folds to the same state as the history recorded now, timers included, after every event', () => {
    const then = asRecordedBefore(now);
    expect(then.slice(1, 3)).toEqual(RECORDED_THEN);
    expect(then.length - now.length).toBe(3 + 2);
    expectSameFolds(now, then, { recovery: true });
    expect(fold(then)).toEqual({ ...fold(now), version: then.length });
  });

  it('a deadline armed the old way still fires, escalates the step and lets an operator ask again', () => {
    const recorded = [now[0] as WorkflowEvent, ...asRecordedBefore(now).slice(1, 3)];
    expect(recorded.map((e) => e.type)).toEqual(['RunStarted', 'GovernanceCheckRequested', 'TimerScheduled']);
    const escalated = given(recorded)
      .when(fireTimer(`a:1:governance@${T0 + MINUTE}`, at(MINUTE)))
      .then('TimerFired', { type: 'RunNeedsOperator', data: { code: 'GOVERNANCE.UNAVAILABLE', stepId: 'a' } });
    expect(escalated.state).toMatchObject({
      status: 'needs_operator',
      steps: { a: { status: 'waiting_governance', escalated: true } },
      timers: {},
    });
    given(escalated.events)
      .when(retryStep('a', { actor: 'ops:ada', ...at(MINUTE + 1_000) }))
      .thenIncludes({ type: 'GovernanceCheckRequested', data: { attempt: 1, timeoutAt: T0 + 2 * MINUTE + 1_000 } });
  });
});
