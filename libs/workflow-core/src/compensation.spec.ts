/** Compensation (guarantee 5): what is undone, in which order, and what happens when undoing fails. */
import { describe, expect, it } from '@jest/globals';
import {
  compensate,
  dispatches,
  fireTimer,
  given,
  ofType,
  play,
  retryStep,
  RUN_ID,
  skipStep,
  startRun,
  stateOf,
  stepCompleted,
  stepFailed,
  T0,
  workflow,
} from './testing/decider-spec.ts';

const at = (ms: number) => ({ now: T0 + ms });
const terminalError = { retryable: false };

describe('compensation (saga)', () => {
  const undo = (action: string) => ({
    action,
    retry: { maxAttempts: 2, backoff: 'fixed', initialDelay: '5s', jitter: 'none' },
  });
  const chain = workflow(
    {
      a: { worker: 'wa', compensate: undo('undo-a') },
      b: { worker: 'wb', needs: ['a'], compensate: undo('undo-b') },
      c: { worker: 'wc', needs: ['b'], compensate: undo('undo-c') },
    },
    { onFailure: 'compensate' },
  );
  const beforeFailure = play(
    [],
    startRun(chain, { id: 1 }),
    stepCompleted('a', { output: { made: 'a' } }),
    stepCompleted('b', { output: { made: 'b' } }),
  );
  const compensating = play(beforeFailure, stepFailed('c', { error: terminalError, ...at(10) }));
  const bUndoFailedTwice = play(
    compensating,
    stepFailed('b', { phase: 'compensate', ...at(20) }),
    fireTimer('compensate:b:2:retry', at(5_020)),
    stepFailed('b', { phase: 'compensate', attempt: 2, ...at(5_030) }),
  );

  it('undoes completed steps in reverse dependency order, the last completed first', () => {
    const undoing = given(beforeFailure)
      .when(stepFailed('c', { error: terminalError, ...at(10) }))
      .then(
        'StepAttemptFailed',
        { type: 'StepFailed', data: { stepId: 'c' } },
        { type: 'CompensationStarted', data: { by: null } },
        {
          type: 'StepDispatched',
          data: {
            stepId: 'b',
            phase: 'compensate',
            attempt: 1,
            worker: 'wb',
            action: 'undo-b',
            input: { input: { id: 1 }, output: { made: 'b' } },
            idempotencyKey: `${RUN_ID}/b/compensate/1`,
          },
        },
      );
    expect(undoing.state.timers['compensate:b:1:timeout']).toMatchObject({ phase: 'compensate', attempt: 1 });
    expect(ofType(compensating, 'CompensationStarted')[0]?.data.cause).toMatch(/^step "c" failed: WORKER.ERROR/);
  });

  it('retries a compensation with its own policy, and undoes the step before it only after it succeeds', () => {
    const retrying = given(compensating)
      .when(stepFailed('b', { phase: 'compensate', ...at(20) }))
      .then(
        { type: 'StepAttemptFailed', data: { stepId: 'b', phase: 'compensate', attempt: 1 } },
        { type: 'StepRetryScheduled', data: { stepId: 'b', phase: 'compensate', nextAttempt: 2, retryAt: T0 + 5_020 } },
      );
    expect(retrying.state.timers['compensate:b:2:retry']).toMatchObject({ phase: 'compensate', dueAt: T0 + 5_020 });
    const second = given(retrying.events)
      .when(fireTimer('compensate:b:2:retry', at(5_020)))
      .then('TimerFired', {
        type: 'StepDispatched',
        data: { stepId: 'b', phase: 'compensate', attempt: 2, idempotencyKey: `${RUN_ID}/b/compensate/2` },
      });
    const aUndone = given(second.events)
      .when(stepCompleted('b', { phase: 'compensate', attempt: 2, ...at(5_030) }))
      .then(
        { type: 'CompensationCompleted', data: { stepId: 'b', attempt: 2 } },
        {
          type: 'StepDispatched',
          data: {
            stepId: 'a',
            phase: 'compensate',
            attempt: 1,
            action: 'undo-a',
            input: { input: { id: 1 }, output: { made: 'a' } },
          },
        },
      );
    const done = given(aUndone.events)
      .when(stepCompleted('a', { phase: 'compensate', ...at(5_040) }))
      .then('CompensationCompleted', { type: 'RunCompensated', data: { compensated: ['a', 'b'] } });
    expect(done.state.status).toBe('compensated');
    expect(dispatches(done.events, 'compensate')).toEqual(['b@1', 'b@2', 'a@1']);
  });

  it('escalates a compensation that exhausts its retries to an operator', () => {
    given(
      play(
        compensating,
        stepFailed('b', { phase: 'compensate', ...at(20) }),
        fireTimer('compensate:b:2:retry', at(5_020)),
      ),
    )
      .when(stepFailed('b', { phase: 'compensate', attempt: 2, ...at(5_030) }))
      .then(
        { type: 'StepAttemptFailed', data: { phase: 'compensate', attempt: 2 } },
        { type: 'CompensationFailed', data: { stepId: 'b', attempt: 2, error: { code: 'WORKER.ERROR' } } },
        { type: 'RunNeedsOperator', data: { code: 'COMPENSATION.FAILED', stepId: 'b' } },
      );
    expect(stateOf(bUndoFailedTwice)).toMatchObject({ status: 'needs_operator', phase: 'compensate' });
    expect(dispatches(bUndoFailedTwice, 'compensate')).not.toContain('a@1');
  });

  it('an operator retry of the compensation resumes, with a fresh budget, and the run ends compensated', () => {
    const retried = given(bUndoFailedTwice)
      .when(retryStep('b', { actor: 'ops:ada', ...at(6_000) }))
      .then(
        { type: 'OperatorRetried', data: { stepId: 'b', phase: 'compensate', by: 'ops:ada' } },
        { type: 'RunResumed', data: { by: 'ops:ada' } },
        { type: 'StepDispatched', data: { stepId: 'b', phase: 'compensate', attempt: 3 } },
      );
    given(retried.events)
      .when(stepFailed('b', { phase: 'compensate', attempt: 3, ...at(6_100) }))
      .thenIncludes({ type: 'StepRetryScheduled', data: { phase: 'compensate', nextAttempt: 4 } });
    const done = play(
      retried.events,
      stepCompleted('b', { phase: 'compensate', attempt: 3 }),
      stepCompleted('a', { phase: 'compensate' }),
    );
    expect(stateOf(done).status).toBe('compensated');
    expect(ofType(done, 'RunCompensated')[0]?.data.compensated).toEqual(['a', 'b']);
  });

  it('an operator skip of the compensation resumes, and the run ends compensated without it', () => {
    const skipped = given(bUndoFailedTwice)
      .when(skipStep('b', null, { actor: 'ops:ada', reason: 'undone by hand' }))
      .then(
        { type: 'CompensationSkipped', data: { stepId: 'b', by: 'ops:ada', reason: 'undone by hand' } },
        'RunResumed',
        { type: 'StepDispatched', data: { stepId: 'a', phase: 'compensate', attempt: 1 } },
      );
    given(skipped.events)
      .when(stepCompleted('a', { phase: 'compensate' }))
      .then('CompensationCompleted', { type: 'RunCompensated', data: { compensated: ['a'] } });
  });

  it('an operator retry of a compensation with edited input dispatches that input', () => {
    const retried = given(bUndoFailedTwice)
      .when(retryStep('b', { input: { accountId: 'acc-1', force: true }, ...at(6_000) }))
      .thenIncludes(
        {
          type: 'OperatorRetried',
          data: { stepId: 'b', phase: 'compensate', input: { accountId: 'acc-1', force: true } },
        },
        { type: 'StepDispatched', data: { stepId: 'b', phase: 'compensate', attempt: 3 } },
      );
    expect(ofType(retried.produced, 'StepDispatched')[0]?.data.input).toEqual({ accountId: 'acc-1', force: true });
  });

  it('waits for attempts still out before compensating, undoes them too, and undoes independent branches in parallel', () => {
    const fork = workflow(
      {
        a: { worker: 'w', compensate: { action: 'undo' } },
        b: { worker: 'w', needs: ['a'], compensate: { action: 'undo' } },
        c: { worker: 'w', needs: ['a'], compensate: { action: 'undo' } },
        d: { worker: 'w', needs: ['a'], retry: { maxAttempts: 1 } },
      },
      { onFailure: 'compensate' },
    );
    const forked = play([], startRun(fork), stepCompleted('a'), stepCompleted('b'));
    // d fails while c is still running: nothing is undone until c answers
    given(forked).when(stepFailed('d')).then('StepAttemptFailed', 'StepFailed', 'CompensationStarted');
    const draining = play(forked, stepFailed('d'));
    // then c, the latest, and b, its independent sibling, are undone together; a waits for both
    const both = given(draining)
      .when(stepCompleted('c'))
      .then(
        'StepCompleted',
        { type: 'StepDispatched', data: { stepId: 'c', phase: 'compensate' } },
        { type: 'StepDispatched', data: { stepId: 'b', phase: 'compensate' } },
      ).events;
    given(both)
      .when(stepCompleted('b', { phase: 'compensate' }))
      .then('CompensationCompleted');
    given(play(both, stepCompleted('b', { phase: 'compensate' })))
      .when(stepCompleted('c', { phase: 'compensate' }))
      .then('CompensationCompleted', { type: 'StepDispatched', data: { stepId: 'a', phase: 'compensate' } });
  });

  it('an operator can compensate a run that has not failed', () => {
    const def = workflow({ a: { worker: 'w', compensate: { action: 'undo' } }, b: { worker: 'w', needs: ['a'] } });
    const history = play([], startRun(def), stepCompleted('a'));
    given(history)
      .when(compensate({ actor: 'ops:ada', reason: 'wrong customer' }))
      .then({ type: 'CompensationStarted', data: { by: 'ops:ada', cause: 'wrong customer' } });
    const draining = play(history, compensate({ actor: 'ops:ada' }));
    given(draining)
      .when(stepCompleted('b'))
      .then('StepCompleted', { type: 'StepDispatched', data: { stepId: 'a', phase: 'compensate' } });
    given(draining).when(compensate()).thenThrows('RUN.NOT_RUNNING');
    given(play([], startRun(def)))
      .when(compensate())
      .thenIncludes('CompensationStarted');
    given(play([], startRun(workflow({ a: { worker: 'w' } }))))
      .when(compensate())
      .thenThrows('RUN.NOTHING_TO_COMPENSATE');
  });

  it('a failed run with nothing to undo ends failed', () => {
    const def = workflow({ a: { worker: 'w', retry: { maxAttempts: 1 } } }, { onFailure: 'compensate' });
    given(play([], startRun(def)))
      .when(stepFailed('a'))
      .then('StepAttemptFailed', 'StepFailed', 'CompensationStarted', { type: 'RunFailed', data: { stepId: 'a' } });
  });
});
