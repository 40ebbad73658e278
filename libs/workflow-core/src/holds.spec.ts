import { describe, expect, it } from '@jest/globals';
import {
  cancel,
  dispatches,
  fireTimer,
  given,
  heartbeat,
  holdStep,
  ofType,
  pause,
  play,
  releaseStep,
  RUN_ID,
  startRun,
  stateOf,
  stepCompleted,
  stepFailed,
  stepStarted,
  T0,
  timerIdOf,
  workflow,
} from './testing/decider-spec.ts';
import { heldOf } from './state.ts';

const at = (ms: number) => ({ now: T0 + ms });
const TIMEOUT = 30_000;

describe('holds: flow control keeps a dispatched attempt back without timing it out', () => {
  const def = workflow({
    a: { worker: 'identity', action: 'create', heartbeatTimeout: '5s', input: { email: '${{ input.email }}' } },
    b: { worker: 'mail', needs: ['a'] },
  });
  const running = play([], startRun(def, { email: 'ada@example.com' }));
  const held = play(running, holdStep('a', { reason: 'breaker_open', worker: 'identity', ...at(10) }));

  it('a hold disarms the attempt timeout and says why the step is held', () => {
    const result = given(running)
      .when(holdStep('a', { reason: 'concurrency_limit', worker: 'identity', ...at(10) }))
      .then({
        type: 'StepHeld',
        data: {
          stepId: 'a',
          attempt: 1,
          phase: 'execute',
          reason: 'concurrency_limit',
          worker: 'identity',
          at: T0 + 10,
        },
      });
    expect(result.state.steps.a).toMatchObject({
      status: 'running',
      held: { reason: 'concurrency_limit', worker: 'identity', since: T0 + 10 },
    });
    expect(result.state.timers).toEqual({});
    // so the deadline the runtime had armed fires into nothing, however long the hold lasts
    given(result.events)
      .when(fireTimer('a:1:timeout', at(TIMEOUT)))
      .thenNothing();
  });

  it('a release re-arms the timeout from the release time and carries what the runtime needs to send the command', () => {
    const released = given(held)
      .when(releaseStep('a', at(5 * 60_000)))
      .then({
        type: 'StepReleased',
        data: {
          stepId: 'a',
          attempt: 1,
          phase: 'execute',
          worker: 'identity',
          action: 'create',
          input: { email: 'ada@example.com' },
          idempotencyKey: `${RUN_ID}/a/1`,
          timeoutAt: T0 + 5 * 60_000 + TIMEOUT,
          send: true,
          at: T0 + 5 * 60_000,
        },
      });
    expect(released.state.steps.a).toMatchObject({ status: 'running', held: null });
    // Folding the release arms a fresh timeout, its due time in its id.
    expect(Object.values(released.state.timers)).toEqual([
      {
        id: `a:1:timeout@${T0 + 5 * 60_000 + TIMEOUT}`,
        kind: 'attempt_timeout',
        stepId: 'a',
        attempt: 1,
        phase: 'execute',
        dueAt: T0 + 5 * 60_000 + TIMEOUT,
      },
    ]);
    // The released attempt then lives by its new deadline: it times out and retries
    given(released.events)
      .when(fireTimer(timerIdOf(released.events, 'attempt_timeout', 'a'), at(5 * 60_000 + TIMEOUT)))
      .thenIncludes({ type: 'StepAttemptFailed', data: { error: { code: 'STEP.TIMED_OUT' } } }, 'StepRetryScheduled');
    // and it is the attempt the worker was sent: its reports apply as usual
    given(released.events)
      .when(stepCompleted('a', at(5 * 60_000 + 1)))
      .thenIncludes('StepCompleted', { type: 'StepDispatched', data: { stepId: 'b' } });
  });

  it('hold and release are idempotent, and apply only to the attempt out', () => {
    given(held)
      .when(holdStep('a', at(20)))
      .thenNothing();
    given(running)
      .when(releaseStep('a', at(20)))
      .thenNothing();
    given(play(held, releaseStep('a', at(30))))
      .when(releaseStep('a', at(40)))
      .thenNothing();
    given(running)
      .when(holdStep('a', { attempt: 2 }))
      .thenNothing();
    given(running).when(holdStep('b')).thenNothing();
    given(running)
      .when(holdStep('a', { phase: 'compensate' }))
      .thenNothing();
    given(held)
      .when(releaseStep('a', { attempt: 2 }))
      .thenNothing();
    given(play(running, stepCompleted('a')))
      .when(holdStep('a'))
      .thenNothing();
    given(play(held, cancel())).when(releaseStep('a')).thenNothing();
    given().when(holdStep('a')).thenNothing();
    given().when(releaseStep('a')).thenNothing();
  });

  it('an attempt a worker has started cannot be held: it is already at the worker', () => {
    given(play(running, stepStarted('a', at(5))))
      .when(holdStep('a', at(10)))
      .thenNothing();
  });

  it('a released attempt can be held again (the breaker let it through, then the limit did not)', () => {
    const again = play(held, releaseStep('a', at(100)));
    const reheld = given(again)
      .when(holdStep('a', { reason: 'concurrency_limit', worker: 'identity', ...at(200) }))
      .then('StepHeld');
    expect(Object.keys(reheld.state.timers)).toEqual([]);
  });

  it('a start reported for a held attempt releases it without a second send, and arms its timeout and heartbeat', () => {
    const started = given(held)
      .when(stepStarted('a', at(1_000)))
      .then(
        { type: 'StepReleased', data: { stepId: 'a', attempt: 1, send: false, timeoutAt: T0 + 1_000 + TIMEOUT } },
        { type: 'StepStarted', data: { stepId: 'a', attempt: 1 } },
        { type: 'TimerScheduled', data: { timer: { kind: 'heartbeat_timeout', dueAt: T0 + 1_000 + 5_000 } } },
      );
    expect(started.state.steps.a).toMatchObject({ status: 'running', held: null });
    const armed = Object.values(started.state.timers).map((t) => `${t.kind} ${t.dueAt - T0}`);
    expect(armed).toEqual([`attempt_timeout ${1_000 + TIMEOUT}`, `heartbeat_timeout ${1_000 + 5_000}`]);
    // a first heartbeat counts as the start, so it does the same
    const beat = given(held)
      .when(heartbeat('a', at(1_000)))
      .then({ type: 'StepReleased', data: { send: false } }, 'StepStarted', 'TimerScheduled');
    expect(beat.state.timers).toEqual(started.state.timers);
  });

  it('a completion or failure reported for a held attempt applies as for any attempt out, and ends the hold', () => {
    const done = given(held)
      .when(stepCompleted('a', at(1_000)))
      .thenIncludes('StepCompleted', { type: 'StepDispatched', data: { stepId: 'b' } });
    expect(done.state.steps.a).toMatchObject({ status: 'completed' });
    expect(done.state.steps.a).not.toHaveProperty('held');
    const failed = given(held)
      .when(stepFailed('a', at(1_000)))
      .then('StepAttemptFailed', 'StepRetryScheduled');
    expect(failed.state.steps.a).toMatchObject({ status: 'retry_scheduled' });
    expect(failed.state.steps.a).not.toHaveProperty('held');
    // and the retry is a fresh dispatch, not held
    given(failed.events)
      .when(fireTimer('a:2:retry', at(2_000)))
      .thenIncludes({ type: 'StepDispatched', data: { stepId: 'a', attempt: 2 } });
  });

  it('pause leaves a held attempt held, and it can still be released (it was dispatched before the pause)', () => {
    const paused = play(held, pause(at(20)));
    expect(heldOf(stateOf(paused).steps.a)).toMatchObject({ reason: 'breaker_open' });
    given(paused)
      .when(releaseStep('a', at(30)))
      .then({ type: 'StepReleased', data: { send: true } });
  });

  it('cancel drops a held attempt: the step is cancelled and nothing is left to release', () => {
    const cancelled = given(held)
      .when(cancel(at(20)))
      .then('RunCancelled');
    expect(cancelled.state).toMatchObject({ timers: {}, steps: { a: { status: 'cancelled' } } });
    expect(cancelled.state.steps.a).not.toHaveProperty('held');
  });
});

describe('holds during compensation', () => {
  const saga = workflow(
    {
      a: {
        worker: 'identity',
        compensate: { worker: 'identity-undo', action: 'delete', input: { id: '${{ steps.a.output.id }}' } },
      },
      b: { worker: 'iam', needs: ['a'], retry: { maxAttempts: 1 } },
      c: { worker: 'mail', needs: ['a'], compensate: { action: 'unsend' } },
    },
    { onFailure: 'compensate' },
  );
  const fanned = play([], startRun(saga), stepCompleted('a', { output: { id: 7 } }));

  it('a held execute attempt is dropped when the run compensates: it never reached a worker, so nothing waits for it or undoes it', () => {
    const heldC = play(fanned, holdStep('c', { worker: 'mail', ...at(10) }));
    const compensating = given(heldC)
      .when(stepFailed('b', at(20)))
      .thenIncludes('StepFailed', 'CompensationStarted', {
        type: 'StepDispatched',
        data: { stepId: 'a', phase: 'compensate' },
      });
    expect(compensating.state.steps.c).toMatchObject({ status: 'cancelled' });
    expect(compensating.state.steps.c).not.toHaveProperty('held');
    given(compensating.events)
      .when(releaseStep('c', at(30)))
      .thenNothing();
    // whereas an attempt that was sent is waited for, since it may yet complete and need undoing
    const notHeld = given(fanned)
      .when(stepFailed('b', at(20)))
      .thenIncludes('CompensationStarted');
    expect(dispatches(notHeld.produced, 'compensate')).toEqual([]);
  });

  it('a hold that comes after the compensation started drops the attempt too, and the compensation goes on', () => {
    // Given c dispatched and b failing in the same breath, so the runtime holds c only once the run compensates
    const compensating = play(fanned, stepFailed('b', at(20)));
    expect(stateOf(compensating).steps.c?.status).toBe('running');
    const dropped = given(compensating)
      .when(holdStep('c', { worker: 'mail', ...at(30) }))
      .then('StepHeld', { type: 'StepDispatched', data: { stepId: 'a', phase: 'compensate' } });
    expect(dropped.state.steps.c).toMatchObject({ status: 'cancelled' });
    expect(dropped.state.steps.c).not.toHaveProperty('held');
    given(dropped.events)
      .when(releaseStep('c', at(40)))
      .thenNothing();
  });

  it('a compensation attempt can be held and released; the release carries the compensation command', () => {
    const compensating = play(
      fanned,
      stepCompleted('c'),
      stepFailed('b', at(20)),
      stepCompleted('c', { phase: 'compensate', ...at(30) }),
    );
    expect(dispatches(compensating, 'compensate')).toEqual(['c@1', 'a@1']);
    const heldUndo = given(compensating)
      .when(holdStep('a', { phase: 'compensate', worker: 'identity-undo', reason: 'concurrency_limit', ...at(40) }))
      .then({ type: 'StepHeld', data: { stepId: 'a', phase: 'compensate', reason: 'concurrency_limit' } });
    expect(heldUndo.state.compensations.a?.held).toMatchObject({
      reason: 'concurrency_limit',
      worker: 'identity-undo',
    });
    expect(Object.values(heldUndo.state.timers).filter((t) => t.stepId === 'a')).toEqual([]);
    const released = given(heldUndo.events)
      .when(releaseStep('a', { phase: 'compensate', ...at(1_000) }))
      .then({
        type: 'StepReleased',
        data: {
          stepId: 'a',
          attempt: 1,
          phase: 'compensate',
          worker: 'identity-undo',
          action: 'delete',
          input: { id: 7 },
          idempotencyKey: `${RUN_ID}/a/compensate/1`,
          timeoutAt: T0 + 1_000 + TIMEOUT,
          send: true,
        },
      });
    expect(Object.values(released.state.timers).filter((t) => t.stepId === 'a')).toMatchObject([
      { kind: 'attempt_timeout', phase: 'compensate', dueAt: T0 + 1_000 + TIMEOUT },
    ]);
    // the release mirrors the dispatch it stands in for
    const dispatched = ofType(compensating, 'StepDispatched').find(
      (e) => e.data.stepId === 'a' && e.data.phase === 'compensate',
    );
    const release = ofType(released.produced, 'StepReleased')[0];
    expect(release?.data).toMatchObject({
      worker: dispatched?.data.worker,
      action: dispatched?.data.action,
      input: dispatched?.data.input,
      idempotencyKey: dispatched?.data.idempotencyKey,
    });
    given(released.events)
      .when(stepCompleted('a', { phase: 'compensate', ...at(2_000) }))
      .thenIncludes('CompensationCompleted', 'RunCompensated');
  });
});
