import { describe, expect, it } from '@jest/globals';
import { decide, evolve, fold, initialState } from './index.ts';
import type { RunState, WorkflowEvent } from './index.ts';
import {
  approve, cancel, compensate, dispatches, fireTimer, given, governance, heartbeat, ofType, pause, play, reject, resume, retryStep, RUN_ID,
  skipStep, startRun, stateOf, stepCompleted, stepFailed, stepStarted, T0, workflow,
} from './testing/decider-spec.ts';

const at = (ms: number) => ({ now: T0 + ms });
const terminalError = { retryable: false };

describe('start', () => {
  const def = workflow({ a: { worker: 'wa' }, b: { worker: 'wb', action: 'go' }, c: { worker: 'wc', needs: ['a', 'b'] } });

  it('records the run and dispatches the roots only, each with an identified attempt and a timeout', () => {
    given().when(startRun(def, { email: 'ada@example.com' }, { actor: 'producer:hr' })).then(
      { type: 'RunStarted', data: { runId: RUN_ID, definition: def, input: { email: 'ada@example.com' }, idempotencyKey: null, startedBy: 'producer:hr', at: T0 } },
      {
        type: 'StepDispatched',
        data: { stepId: 'a', attempt: 1, phase: 'execute', worker: 'wa', action: null, input: { email: 'ada@example.com' }, idempotencyKey: `${RUN_ID}/a/1`, timeoutAt: T0 + 30_000, at: T0 },
      },
      { type: 'TimerScheduled', data: { timer: { id: 'a:1:timeout', kind: 'attempt_timeout', stepId: 'a', attempt: 1, phase: 'execute', dueAt: T0 + 30_000 } } },
      { type: 'StepDispatched', data: { stepId: 'b', attempt: 1, worker: 'wb', action: 'go', idempotencyKey: `${RUN_ID}/b/1` } },
      { type: 'TimerScheduled', data: { timer: { id: 'b:1:timeout' } } },
    );
  });

  it('is idempotent by idempotencyKey; another key for the same run is an error', () => {
    const history = play([], startRun(def, {}, { idempotencyKey: 'k-1' }));
    given(history).when(startRun(def, {}, { idempotencyKey: 'k-1', now: T0 + 5 })).thenNothing();
    given(history).when(startRun(def, {}, { idempotencyKey: 'k-2' })).thenThrows('RUN.ALREADY_EXISTS');
    given(history).when(startRun(def, {})).thenThrows('RUN.ALREADY_EXISTS');
  });

  it('rejects input that does not match the input schema, naming the field', () => {
    const strict = workflow({ a: { worker: 'w' } }, { input: { schema: { type: 'object', required: ['email'], properties: { email: { type: 'string' } } } } });
    const error = given().when(startRun(strict, { name: 'Ada' })).thenThrows('RUN.INPUT_INVALID');
    expect(error.message).toContain('/input/email: missing required field "email"');
    expect(error.details).toEqual({ issues: [{ path: '/input/email', message: 'missing required field "email"' }] });
    given().when(startRun(strict, { email: 'ada@example.com' })).thenIncludes('RunStarted', { type: 'StepDispatched', data: { stepId: 'a' } });
  });

  it('maps step input from the run input and upstream outputs, and runs independent branches in parallel', () => {
    const mapped = workflow({
      a: { worker: 'w', input: { email: '${{ input.email }}' } },
      b: { worker: 'w', needs: ['a'], input: { account: "${{ steps['a'].output.id }}", next: '${{ input.n + 1 }}' } },
      c: { worker: 'w', needs: ['a'], input: 'hello ${{ input.email }}' },
    });
    const history = play([], startRun(mapped, { email: 'ada@example.com', n: 1 }));
    expect(ofType(history, 'StepDispatched')[0]?.data.input).toEqual({ email: 'ada@example.com' });
    given(history).when(stepCompleted('a', { output: { id: 'acc-1' } })).then(
      { type: 'StepCompleted', data: { stepId: 'a', attempt: 1, output: { id: 'acc-1' } } },
      { type: 'StepDispatched', data: { stepId: 'b', input: { account: 'acc-1', next: 2 } } },
      'TimerScheduled',
      { type: 'StepDispatched', data: { stepId: 'c', input: 'hello ada@example.com' } },
      'TimerScheduled',
    );
  });

  it('completes the run when every step is done', () => {
    const history = play([], startRun(def), stepCompleted('a'), stepCompleted('b'));
    given(history).when(stepCompleted('c', at(9))).then('StepCompleted', { type: 'RunCompleted', data: { at: T0 + 9 } });
  });
});

describe('joins: a step waits for its join, then runs', () => {
  /** r1..rn are roots; x needs all of them with `join`. Failures are final (one attempt). */
  const fanIn = (join: string, n: number) => {
    const steps: Record<string, unknown> = {};
    for (let i = 1; i <= n; i++) steps[`r${i}`] = { worker: 'w' };
    steps.x = { worker: 'w', needs: Object.keys(steps), join };
    return play([], startRun(workflow(steps, { defaults: { retry: { maxAttempts: 1 } } })));
  };
  const xDispatched = { type: 'StepDispatched', data: { stepId: 'x', attempt: 1 } } as const;

  it('all_success waits for every need', () => {
    const history = play(fanIn('all_success', 3), stepCompleted('r1'));
    given(history).when(stepCompleted('r2')).then('StepCompleted');
    given(play(history, stepCompleted('r2'))).when(stepCompleted('r3')).then('StepCompleted', xDispatched, 'TimerScheduled');
  });

  it('any_success waits through a failure for the first success', () => {
    const history = fanIn('any_success', 2);
    // the failure is absorbed: x tolerates it, so the run neither fails nor dispatches x yet
    given(history).when(stepFailed('r1', { error: terminalError })).then('StepAttemptFailed', 'StepFailed');
    given(play(history, stepFailed('r1', { error: terminalError }))).when(stepCompleted('r2')).then('StepCompleted', xDispatched, 'TimerScheduled');
  });

  it('majority runs on more than half, without waiting for the rest', () => {
    const history = fanIn('majority', 3);
    given(history).when(stepCompleted('r1')).then('StepCompleted');
    given(play(history, stepCompleted('r1'))).when(stepCompleted('r2')).then('StepCompleted', xDispatched, 'TimerScheduled');
    expect(stateOf(play(history, stepCompleted('r1'), stepCompleted('r2'))).steps.r3?.status).toBe('running');
  });

  it('quorum(2) needs two successes, and fails the step once two are out of reach', () => {
    const history = play(fanIn('quorum(2)', 3), stepFailed('r1', { error: terminalError }));
    given(history).when(stepCompleted('r2')).then('StepCompleted');
    given(play(history, stepCompleted('r2'))).when(stepCompleted('r3')).then('StepCompleted', xDispatched, 'TimerScheduled');
    given(history).when(stepFailed('r2', { error: terminalError })).then(
      'StepAttemptFailed',
      { type: 'StepFailed', data: { stepId: 'r2' } },
      { type: 'StepFailed', data: { stepId: 'x', error: { code: 'JOIN.UNSATISFIED', retryable: false } } },
      { type: 'RunFailed', data: { stepId: 'x' } },
    );
  });

  it('all_done waits for every need to finish, whatever the outcome, and the run still completes', () => {
    const history = fanIn('all_done', 2);
    given(history).when(stepFailed('r1', { error: terminalError })).then('StepAttemptFailed', 'StepFailed');
    const done = given(play(history, stepFailed('r1', { error: terminalError }))).when(stepCompleted('r2')).then('StepCompleted', xDispatched, 'TimerScheduled');
    given(done.events).when(stepCompleted('x')).then('StepCompleted', 'RunCompleted');
  });

  it('all_success fails the run when a need fails', () => {
    given(fanIn('all_success', 2)).when(stepFailed('r1', { error: terminalError })).then(
      'StepAttemptFailed',
      { type: 'StepFailed', data: { stepId: 'r1' } },
      { type: 'RunFailed', data: { stepId: 'r1', error: { code: 'WORKER.ERROR' } } },
    );
  });
});

describe('when', () => {
  const def = workflow({
    a: { worker: 'w' },
    b: { worker: 'w', needs: ['a'], when: '${{ input.withB == true }}' },
    c: { worker: 'w', needs: ['b'], input: { b: '${{ steps.b.status }}' } },
  });

  it('skips a step whose condition is false, and all_success downstream still runs', () => {
    given(play([], startRun(def, { withB: false }))).when(stepCompleted('a')).then(
      'StepCompleted',
      { type: 'StepSkipped', data: { stepId: 'b', kind: 'condition', output: null, by: null, reason: 'when evaluated to false' } },
      { type: 'StepDispatched', data: { stepId: 'c', input: { b: 'skipped' } } },
      'TimerScheduled',
    );
  });

  it('runs the step when its condition holds', () => {
    given(play([], startRun(def, { withB: true }))).when(stepCompleted('a')).then('StepCompleted', { type: 'StepDispatched', data: { stepId: 'b' } }, 'TimerScheduled');
  });
});

describe('retries', () => {
  const retrying = (retry: Record<string, unknown>) => workflow({ a: { worker: 'w', retry } });

  /** Fails attempts 1..n-1 of `a`, firing each retry timer when due; returns each retry's delay. */
  const delays = (def: ReturnType<typeof workflow>, runId: string, failures: number): number[] => {
    let events = play([], startRun(def, {}, { runId }));
    const out: number[] = [];
    for (let attempt = 1; attempt <= failures; attempt++) {
      const failedAt = T0 + attempt * 100_000;
      events = play(events, stepFailed('a', { attempt, now: failedAt }));
      const scheduled = ofType(events, 'StepRetryScheduled').at(-1);
      if (!scheduled || scheduled.data.nextAttempt !== attempt + 1) throw new Error(`attempt ${attempt} did not schedule a retry`);
      out.push(scheduled.data.retryAt - failedAt);
      events = play(events, fireTimer(`a:${attempt + 1}:retry`, { now: scheduled.data.retryAt }));
    }
    return out;
  };

  it('schedules the next attempt after exponential backoff, capped at maxDelay, and dispatches it when the timer fires', () => {
    const def = retrying({ maxAttempts: 4, backoff: 'exponential', initialDelay: '1s', maxDelay: '3s', jitter: 'none' });
    const history = play([], startRun(def, { v: 1 }));
    const retry = given(history).when(stepFailed('a', at(100))).then(
      { type: 'StepAttemptFailed', data: { stepId: 'a', attempt: 1, phase: 'execute', error: { code: 'WORKER.ERROR', retryable: true } } },
      { type: 'StepRetryScheduled', data: { stepId: 'a', phase: 'execute', nextAttempt: 2, retryAt: T0 + 1_100 } },
      { type: 'TimerScheduled', data: { timer: { id: 'a:2:retry', kind: 'retry', stepId: 'a', attempt: 2, phase: 'execute', dueAt: T0 + 1_100 } } },
    );
    given(retry.events).when(fireTimer('a:2:retry', at(1_100))).then(
      { type: 'TimerFired', data: { timerId: 'a:2:retry' } },
      { type: 'StepDispatched', data: { stepId: 'a', attempt: 2, input: { v: 1 }, idempotencyKey: `${RUN_ID}/a/2` } },
      'TimerScheduled',
    );
    expect(delays(def, RUN_ID, 3)).toEqual([1_000, 2_000, 3_000]);
  });

  it('fixed backoff waits the same each time', () => {
    expect(delays(retrying({ maxAttempts: 4, backoff: 'fixed', initialDelay: '2s', jitter: 'none' }), RUN_ID, 3)).toEqual([2_000, 2_000, 2_000]);
  });

  it('jitter stays inside its bounds, is the same for the same attempt, and differs between attempts of different runs', () => {
    const full = retrying({ maxAttempts: 4, backoff: 'exponential', initialDelay: '1s', maxDelay: '3s', jitter: 'full' });
    const equal = retrying({ maxAttempts: 4, backoff: 'exponential', initialDelay: '1s', maxDelay: '3s', jitter: 'equal' });
    const caps = [1_000, 2_000, 3_000];
    const seen = new Set<number>();
    for (const runId of ['run-a', 'run-b', 'run-c', 'run-d', 'run-e']) {
      const fullDelays = delays(full, runId, 3);
      expect(delays(full, runId, 3)).toEqual(fullDelays);
      fullDelays.forEach((d, i) => {
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThanOrEqual(caps[i] ?? 0);
        seen.add(d);
      });
      delays(equal, runId, 3).forEach((d, i) => {
        expect(d).toBeGreaterThanOrEqual((caps[i] ?? 0) / 2);
        expect(d).toBeLessThanOrEqual(caps[i] ?? 0);
      });
    }
    expect(seen.size).toBeGreaterThan(5);
    // and deciding the same failure twice gives the same events
    const history = play([], startRun(full));
    expect(decide(stepFailed('a', at(1)), fold(history))).toEqual(decide(stepFailed('a', at(1)), fold(history)));
  });

  it('does not retry an error the worker marks non-retryable', () => {
    given(play([], startRun(retrying({ maxAttempts: 5 })))).when(stepFailed('a', { error: { code: 'CARD.DECLINED', retryable: false } })).then(
      { type: 'StepAttemptFailed', data: { error: { code: 'CARD.DECLINED', retryable: false } } },
      { type: 'StepFailed', data: { stepId: 'a', attempt: 1, error: { code: 'CARD.DECLINED' } } },
      'RunFailed',
    );
  });

  it('does not retry an error whose code the definition lists as non-retryable, whatever the worker says', () => {
    const def = retrying({ maxAttempts: 5, nonRetryable: ['CARD.DECLINED'] });
    given(play([], startRun(def))).when(stepFailed('a', { error: { code: 'CARD.DECLINED', retryable: true } })).then('StepAttemptFailed', 'StepFailed', 'RunFailed');
    given(play([], startRun(def))).when(stepFailed('a', { error: { code: 'NET.RESET', retryable: true } })).then('StepAttemptFailed', 'StepRetryScheduled', 'TimerScheduled');
  });

  it('fails the step once maxAttempts are used up', () => {
    const def = retrying({ maxAttempts: 2, initialDelay: '1s', jitter: 'none' });
    const history = play([], startRun(def), stepFailed('a', at(0)), fireTimer('a:2:retry', at(1_000)));
    given(history).when(stepFailed('a', { attempt: 2, ...at(2_000) })).then(
      { type: 'StepAttemptFailed', data: { attempt: 2 } },
      { type: 'StepFailed', data: { stepId: 'a', attempt: 2, error: { code: 'WORKER.ERROR' } } },
      { type: 'RunFailed', data: { stepId: 'a', error: { code: 'WORKER.ERROR' } } },
    );
  });
});

describe('timeouts and liveness', () => {
  const def = workflow({ a: { worker: 'w', timeout: '1m', heartbeatTimeout: '10s' } });
  const running = play([], startRun(def));

  it('fails an attempt that outlives its timeout, and retries it', () => {
    const timedOut = given(running).when(fireTimer('a:1:timeout', at(60_000))).then(
      { type: 'TimerFired', data: { timerId: 'a:1:timeout' } },
      { type: 'StepAttemptFailed', data: { attempt: 1, error: { code: 'STEP.TIMED_OUT', retryable: true } } },
      { type: 'StepRetryScheduled', data: { nextAttempt: 2, retryAt: T0 + 61_000 } },
      'TimerScheduled',
    );
    // the worker that finally answers for the timed-out attempt changes nothing
    given(timedOut.events).when(stepCompleted('a', { attempt: 1, ...at(60_500) })).thenNothing();
    given(timedOut.events).when(fireTimer('a:2:retry', at(61_000))).then('TimerFired', { type: 'StepDispatched', data: { attempt: 2 } }, 'TimerScheduled');
  });

  it('arms a heartbeat timer when the attempt starts, and fails the attempt when the worker goes silent', () => {
    const started = given(running).when(stepStarted('a', at(1_000))).then(
      { type: 'StepStarted', data: { stepId: 'a', attempt: 1, at: T0 + 1_000 } },
      { type: 'TimerScheduled', data: { timer: { id: `a:1:heartbeat@${T0 + 11_000}`, kind: 'heartbeat_timeout', attempt: 1, dueAt: T0 + 11_000 } } },
    );
    given(started.events).when(fireTimer(`a:1:heartbeat@${T0 + 11_000}`, at(11_000))).then(
      'TimerFired',
      { type: 'StepAttemptFailed', data: { attempt: 1, error: { code: 'STEP.HEARTBEAT_TIMED_OUT', retryable: true } } },
      { type: 'StepRetryScheduled', data: { nextAttempt: 2 } },
      'TimerScheduled',
    );
  });

  it('a heartbeat extends the deadline instead', () => {
    const beating = play(running, stepStarted('a', at(1_000)), heartbeat('a', at(8_000)));
    const extended = given(beating).when(fireTimer(`a:1:heartbeat@${T0 + 11_000}`, at(11_000))).then(
      'TimerFired',
      { type: 'TimerScheduled', data: { timer: { id: `a:1:heartbeat@${T0 + 18_000}`, kind: 'heartbeat_timeout', dueAt: T0 + 18_000 } } },
    );
    expect(extended.state.steps.a?.status).toBe('running');
    given(extended.events).when(fireTimer(`a:1:heartbeat@${T0 + 18_000}`, at(18_000))).thenIncludes({ type: 'StepAttemptFailed', data: { error: { code: 'STEP.HEARTBEAT_TIMED_OUT' } } });
  });

  it('records a first heartbeat without a start as the start', () => {
    given(running).when(heartbeat('a', at(500))).then({ type: 'StepStarted', data: { at: T0 + 500 } }, { type: 'TimerScheduled', data: { timer: { dueAt: T0 + 10_500 } } });
  });
});

describe('duplicate, stale and late reports change nothing', () => {
  const def = workflow({ a: { worker: 'w' }, b: { worker: 'w', needs: ['a'] } });
  const running = play([], startRun(def));

  it('a redelivered completion or failure', () => {
    const completed = play(running, stepCompleted('a'));
    given(completed).when(stepCompleted('a', at(5))).thenNothing();
    given(completed).when(stepFailed('a', at(5))).thenNothing();
    const failed = play(running, stepFailed('a'));
    given(failed).when(stepFailed('a', at(5))).thenNothing();
  });

  it('a redelivered start', () => {
    given(play(running, stepStarted('a', at(1)))).when(stepStarted('a', at(2))).thenNothing();
  });

  it('a redelivered heartbeat (same attempt, same instant)', () => {
    given(play(running, stepStarted('a', at(1)), heartbeat('a', at(2)))).when(heartbeat('a', at(2))).thenNothing();
  });

  it('a report for an older attempt than the one out', () => {
    const second = play(running, stepFailed('a'), fireTimer('a:2:retry', at(1_000)));
    for (const stale of [stepCompleted('a', { attempt: 1 }), stepFailed('a', { attempt: 1 }), stepStarted('a', { attempt: 1 }), heartbeat('a', { attempt: 1 })]) {
      given(second).when(stale).thenNothing();
    }
    expect(stateOf(second).steps.a).toMatchObject({ status: 'running', attempt: 2 });
  });

  it('a report for an attempt, step or phase that was never dispatched', () => {
    for (const report of [stepCompleted('a', { attempt: 2 }), stepCompleted('b'), stepCompleted('ghost'), stepCompleted('a', { phase: 'compensate' }), fireTimer('no-such-timer')]) {
      given(running).when(report).thenNothing();
    }
  });

  it('a governance decision nobody asked for', () => {
    given(running).when(governance('a', 'deny')).thenNothing();
  });

  it('anything after the run has ended', () => {
    const done = play(running, stepCompleted('a'), stepCompleted('b'));
    expect(stateOf(done).status).toBe('completed');
    for (const late of [stepCompleted('b', at(9)), stepFailed('b', at(9)), stepStarted('b', at(9)), fireTimer('b:1:timeout', at(9)), governance('b', 'allow')]) {
      given(done).when(late).thenNothing();
    }
  });

  it('reports for a run that does not exist', () => {
    given().when(stepCompleted('a')).thenNothing();
    given().when(fireTimer('a:1:timeout')).thenNothing();
  });
});

describe('compensation (saga)', () => {
  const undo = (action: string) => ({ action, retry: { maxAttempts: 2, backoff: 'fixed', initialDelay: '5s', jitter: 'none' } });
  const chain = workflow({
    a: { worker: 'wa', compensate: undo('undo-a') },
    b: { worker: 'wb', needs: ['a'], compensate: undo('undo-b') },
    c: { worker: 'wc', needs: ['b'], compensate: undo('undo-c') },
  }, { onFailure: 'compensate' });
  const beforeFailure = play([], startRun(chain, { id: 1 }), stepCompleted('a', { output: { made: 'a' } }), stepCompleted('b', { output: { made: 'b' } }));
  const compensating = play(beforeFailure, stepFailed('c', { error: terminalError, ...at(10) }));
  const bUndoFailedTwice = play(compensating, stepFailed('b', { phase: 'compensate', ...at(20) }), fireTimer('compensate:b:2:retry', at(5_020)), stepFailed('b', { phase: 'compensate', attempt: 2, ...at(5_030) }));

  it('undoes completed steps in reverse dependency order, the last completed first', () => {
    given(beforeFailure).when(stepFailed('c', { error: terminalError, ...at(10) })).then(
      'StepAttemptFailed',
      { type: 'StepFailed', data: { stepId: 'c' } },
      { type: 'CompensationStarted', data: { by: null } },
      {
        type: 'StepDispatched',
        data: { stepId: 'b', phase: 'compensate', attempt: 1, worker: 'wb', action: 'undo-b', input: { input: { id: 1 }, output: { made: 'b' } }, idempotencyKey: `${RUN_ID}/b/compensate/1` },
      },
      { type: 'TimerScheduled', data: { timer: { id: 'compensate:b:1:timeout', phase: 'compensate' } } },
    );
    expect(ofType(compensating, 'CompensationStarted')[0]?.data.cause).toMatch(/^step "c" failed: WORKER.ERROR/);
  });

  it('retries a compensation with its own policy, and undoes the step before it only after it succeeds', () => {
    const retrying = given(compensating).when(stepFailed('b', { phase: 'compensate', ...at(20) })).then(
      { type: 'StepAttemptFailed', data: { stepId: 'b', phase: 'compensate', attempt: 1 } },
      { type: 'StepRetryScheduled', data: { stepId: 'b', phase: 'compensate', nextAttempt: 2, retryAt: T0 + 5_020 } },
      { type: 'TimerScheduled', data: { timer: { id: 'compensate:b:2:retry', phase: 'compensate', dueAt: T0 + 5_020 } } },
    );
    const second = given(retrying.events).when(fireTimer('compensate:b:2:retry', at(5_020))).then(
      'TimerFired',
      { type: 'StepDispatched', data: { stepId: 'b', phase: 'compensate', attempt: 2, idempotencyKey: `${RUN_ID}/b/compensate/2` } },
      'TimerScheduled',
    );
    const aUndone = given(second.events).when(stepCompleted('b', { phase: 'compensate', attempt: 2, ...at(5_030) })).then(
      { type: 'CompensationCompleted', data: { stepId: 'b', attempt: 2 } },
      { type: 'StepDispatched', data: { stepId: 'a', phase: 'compensate', attempt: 1, action: 'undo-a', input: { input: { id: 1 }, output: { made: 'a' } } } },
      'TimerScheduled',
    );
    const done = given(aUndone.events).when(stepCompleted('a', { phase: 'compensate', ...at(5_040) })).then('CompensationCompleted', { type: 'RunCompensated', data: { compensated: ['a', 'b'] } });
    expect(done.state.status).toBe('compensated');
    expect(dispatches(done.events, 'compensate')).toEqual(['b@1', 'b@2', 'a@1']);
  });

  it('escalates a compensation that exhausts its retries to an operator', () => {
    given(play(compensating, stepFailed('b', { phase: 'compensate', ...at(20) }), fireTimer('compensate:b:2:retry', at(5_020))))
      .when(stepFailed('b', { phase: 'compensate', attempt: 2, ...at(5_030) })).then(
        { type: 'StepAttemptFailed', data: { phase: 'compensate', attempt: 2 } },
        { type: 'CompensationFailed', data: { stepId: 'b', attempt: 2, error: { code: 'WORKER.ERROR' } } },
        { type: 'RunNeedsOperator', data: { code: 'COMPENSATION.FAILED', stepId: 'b' } },
      );
    expect(stateOf(bUndoFailedTwice)).toMatchObject({ status: 'needs_operator', phase: 'compensate' });
    expect(dispatches(bUndoFailedTwice, 'compensate')).not.toContain('a@1');
  });

  it('an operator retry of the compensation resumes, with a fresh budget, and the run ends compensated', () => {
    const retried = given(bUndoFailedTwice).when(retryStep('b', { actor: 'ops:ada', ...at(6_000) })).then(
      { type: 'OperatorRetried', data: { stepId: 'b', phase: 'compensate', by: 'ops:ada' } },
      { type: 'RunResumed', data: { by: 'ops:ada' } },
      { type: 'StepDispatched', data: { stepId: 'b', phase: 'compensate', attempt: 3 } },
      'TimerScheduled',
    );
    given(retried.events).when(stepFailed('b', { phase: 'compensate', attempt: 3, ...at(6_100) })).thenIncludes({ type: 'StepRetryScheduled', data: { phase: 'compensate', nextAttempt: 4 } });
    const done = play(retried.events, stepCompleted('b', { phase: 'compensate', attempt: 3 }), stepCompleted('a', { phase: 'compensate' }));
    expect(stateOf(done).status).toBe('compensated');
    expect(ofType(done, 'RunCompensated')[0]?.data.compensated).toEqual(['a', 'b']);
  });

  it('an operator skip of the compensation resumes, and the run ends compensated without it', () => {
    const skipped = given(bUndoFailedTwice).when(skipStep('b', null, { actor: 'ops:ada', reason: 'undone by hand' })).then(
      { type: 'CompensationSkipped', data: { stepId: 'b', by: 'ops:ada', reason: 'undone by hand' } },
      'RunResumed',
      { type: 'StepDispatched', data: { stepId: 'a', phase: 'compensate', attempt: 1 } },
      'TimerScheduled',
    );
    given(skipped.events).when(stepCompleted('a', { phase: 'compensate' })).then('CompensationCompleted', { type: 'RunCompensated', data: { compensated: ['a'] } });
  });

  it('an operator retry of a compensation with edited input dispatches that input', () => {
    const retried = given(bUndoFailedTwice).when(retryStep('b', { input: { accountId: 'acc-1', force: true }, ...at(6_000) })).thenIncludes(
      { type: 'OperatorRetried', data: { stepId: 'b', phase: 'compensate', input: { accountId: 'acc-1', force: true } } },
      { type: 'StepDispatched', data: { stepId: 'b', phase: 'compensate', attempt: 3 } },
    );
    expect(ofType(retried.produced, 'StepDispatched')[0]?.data.input).toEqual({ accountId: 'acc-1', force: true });
  });

  it('waits for attempts still out before compensating, undoes them too, and undoes independent branches in parallel', () => {
    const fork = workflow({
      a: { worker: 'w', compensate: { action: 'undo' } },
      b: { worker: 'w', needs: ['a'], compensate: { action: 'undo' } },
      c: { worker: 'w', needs: ['a'], compensate: { action: 'undo' } },
      d: { worker: 'w', needs: ['a'], retry: { maxAttempts: 1 } },
    }, { onFailure: 'compensate' });
    const forked = play([], startRun(fork), stepCompleted('a'), stepCompleted('b'));
    // d fails while c is still running: nothing is undone until c answers
    given(forked).when(stepFailed('d')).then('StepAttemptFailed', 'StepFailed', 'CompensationStarted');
    const draining = play(forked, stepFailed('d'));
    // then c, the latest, and b, its independent sibling, are undone together; a waits for both
    const both = given(draining).when(stepCompleted('c')).then(
      'StepCompleted',
      { type: 'StepDispatched', data: { stepId: 'c', phase: 'compensate' } },
      'TimerScheduled',
      { type: 'StepDispatched', data: { stepId: 'b', phase: 'compensate' } },
      'TimerScheduled',
    ).events;
    given(both).when(stepCompleted('b', { phase: 'compensate' })).then('CompensationCompleted');
    given(play(both, stepCompleted('b', { phase: 'compensate' }))).when(stepCompleted('c', { phase: 'compensate' })).then(
      'CompensationCompleted',
      { type: 'StepDispatched', data: { stepId: 'a', phase: 'compensate' } },
      'TimerScheduled',
    );
  });

  it('an operator can compensate a run that has not failed', () => {
    const def = workflow({ a: { worker: 'w', compensate: { action: 'undo' } }, b: { worker: 'w', needs: ['a'] } });
    const history = play([], startRun(def), stepCompleted('a'));
    given(history).when(compensate({ actor: 'ops:ada', reason: 'wrong customer' })).then(
      { type: 'CompensationStarted', data: { by: 'ops:ada', cause: 'wrong customer' } },
    );
    const draining = play(history, compensate({ actor: 'ops:ada' }));
    given(draining).when(stepCompleted('b')).then('StepCompleted', { type: 'StepDispatched', data: { stepId: 'a', phase: 'compensate' } }, 'TimerScheduled');
    given(draining).when(compensate()).thenThrows('RUN.NOT_RUNNING');
    given(play([], startRun(def))).when(compensate()).thenIncludes('CompensationStarted');
    given(play([], startRun(workflow({ a: { worker: 'w' } })))).when(compensate()).thenThrows('RUN.NOTHING_TO_COMPENSATE');
  });

  it('a failed run with nothing to undo ends failed', () => {
    const def = workflow({ a: { worker: 'w', retry: { maxAttempts: 1 } } }, { onFailure: 'compensate' });
    given(play([], startRun(def))).when(stepFailed('a')).then('StepAttemptFailed', 'StepFailed', 'CompensationStarted', { type: 'RunFailed', data: { stepId: 'a' } });
  });
});

describe('operator takeover', () => {
  const def = workflow({
    a: { worker: 'w', retry: { maxAttempts: 1 } },
    b: { worker: 'w', needs: ['a'], input: { got: '${{ steps.a.output.v }}' } },
  }, { onFailure: 'escalate' });
  const escalated = play([], startRun(def, { email: 'ada@exmaple.com' }), stepFailed('a', at(10)));

  it('onFailure: escalate parks the run for an operator', () => {
    given(play([], startRun(def))).when(stepFailed('a', at(10))).then(
      'StepAttemptFailed',
      { type: 'StepFailed', data: { stepId: 'a' } },
      { type: 'RunNeedsOperator', data: { code: 'WORKER.ERROR', stepId: 'a', at: T0 + 10 } },
    );
    expect(stateOf(escalated)).toMatchObject({ status: 'needs_operator', attention: { code: 'WORKER.ERROR', stepId: 'a' } });
  });

  it('an operator retry with edited input resumes the run and dispatches the new input, with a fresh budget', () => {
    const retried = given(escalated).when(retryStep('a', { input: { email: 'ada@example.com' }, actor: 'ops:ada', reason: 'typo', ...at(100) })).then(
      { type: 'OperatorRetried', data: { stepId: 'a', phase: 'execute', input: { email: 'ada@example.com' }, by: 'ops:ada', reason: 'typo', at: T0 + 100 } },
      { type: 'RunResumed', data: { by: 'ops:ada', reason: 'typo' } },
      { type: 'StepDispatched', data: { stepId: 'a', attempt: 2, input: { email: 'ada@example.com' }, idempotencyKey: `${RUN_ID}/a/2` } },
      'TimerScheduled',
    );
    const next = given(retried.events).when(stepCompleted('a', { attempt: 2, output: { v: 7 } })).then('StepCompleted', { type: 'StepDispatched', data: { stepId: 'b', input: { got: 7 } } }, 'TimerScheduled');
    given(next.events).when(stepCompleted('b')).then('StepCompleted', 'RunCompleted');
  });

  it('an operator retry without input reuses the last input', () => {
    given(escalated).when(retryStep('a')).thenIncludes({ type: 'StepDispatched', data: { attempt: 2, input: { email: 'ada@exmaple.com' } } });
  });

  it('an operator skip supplies the output that downstream input mapping sees', () => {
    given(escalated).when(skipStep('a', { v: 42 }, { actor: 'ops:ada', reason: 'done by hand' })).then(
      { type: 'StepSkipped', data: { stepId: 'a', kind: 'operator', output: { v: 42 }, by: 'ops:ada', reason: 'done by hand' } },
      'RunResumed',
      { type: 'StepDispatched', data: { stepId: 'b', input: { got: 42 } } },
      'TimerScheduled',
    );
  });

  it('skipping a completed step is a clear error', () => {
    const error = given(play([], startRun(def), stepCompleted('a'))).when(skipStep('a', {})).thenThrows('STEP.ALREADY_TERMINAL');
    expect(error.details).toEqual({ stepId: 'a', status: 'completed' });
  });

  describe('an operator retry of a step that failed before it ever ran goes through its gates again', () => {
    // Given b needs a with any_success, and a failed for good: b fails as unsatisfiable and the run escalates
    const gatedDef = (b: Record<string, unknown>) => workflow({ a: { worker: 'w' }, b: { worker: 'w', needs: ['a'], join: 'any_success', ...b } }, {
      onFailure: 'escalate', defaults: { retry: { maxAttempts: 1 } },
    });
    const unsatisfied = (b: Record<string, unknown> = {}) => play([], startRun(gatedDef(b), { go: false }), stepFailed('a'));

    it('its join: no dispatch while its needs still cannot satisfy it', () => {
      const stuck = unsatisfied();
      expect(stateOf(stuck)).toMatchObject({ status: 'needs_operator', steps: { b: { status: 'failed', error: { code: 'JOIN.UNSATISFIED' } } } });
      let produced: WorkflowEvent[] = [];
      try {
        produced = decide(retryStep('b'), fold(stuck));
      } catch (error) {
        // refusing is fine, as long as it says why
        expect((error as { code?: unknown }).code).toBe('STEP.NOT_RETRYABLE_NOW');
      }
      expect(dispatches(produced)).toEqual([]);
    });

    it('governance: a side-effecting step is checked before it is dispatched', () => {
      // When the operator supplies a's output, then retries b
      const history = play(unsatisfied({ sideEffect: true }), skipStep('a', { id: 1 }));
      const retried = given(history).when(retryStep('b')).thenIncludes('OperatorRetried', 'RunResumed', { type: 'GovernanceCheckRequested', data: { stepId: 'b' } });
      expect(dispatches(retried.produced)).toEqual([]);
    });

    it('its condition: a step whose when is false is skipped, not dispatched', () => {
      const history = play(unsatisfied({ when: '${{ input.go }}' }), skipStep('a', { id: 1 }));
      const retried = given(history).when(retryStep('b')).thenIncludes('OperatorRetried', { type: 'StepSkipped', data: { stepId: 'b', kind: 'condition' } });
      expect(dispatches(retried.produced)).toEqual([]);
    });
  });
});

describe('approval steps', () => {
  const gated = (gate: Record<string, unknown>) => workflow({
    a: { worker: 'w' },
    gate: { type: 'approval', needs: ['a'], assignees: ['role:finance'], ...gate },
    z: { worker: 'w', needs: ['gate'], input: { approvedBy: '${{ steps.gate.output.by }}' } },
  });
  const waiting = (gate: Record<string, unknown> = {}) => play([], startRun(gated({ timeout: '48h', ...gate })), stepCompleted('a', at(10)));

  it('asks for approval when its join is satisfied, with a deadline', () => {
    given(play([], startRun(gated({ timeout: '48h' })))).when(stepCompleted('a', at(10))).then(
      'StepCompleted',
      { type: 'ApprovalRequested', data: { stepId: 'gate', cause: 'approval_step', assignees: ['role:finance'] } },
      { type: 'TimerScheduled', data: { timer: { id: 'gate:approval:0', kind: 'approval_timeout', stepId: 'gate', dueAt: T0 + 10 + 48 * 3_600_000 } } },
    );
  });

  it('approve completes the gate, with who approved as its output, and the run goes on', () => {
    const approved = given(waiting()).when(approve('gate', { actor: 'ops:fin', reason: 'within budget' })).then(
      { type: 'StepApproved', data: { stepId: 'gate', by: 'ops:fin', reason: 'within budget' } },
      { type: 'StepCompleted', data: { stepId: 'gate', output: { approved: true, by: 'ops:fin', reason: 'within budget' } } },
      { type: 'StepDispatched', data: { stepId: 'z', input: { approvedBy: 'ops:fin' } } },
      'TimerScheduled',
    );
    expect(Object.values(approved.state.timers).map((t) => t.kind)).toEqual(['attempt_timeout']);
    given(approved.events).when(approve('gate')).thenThrows('STEP.ALREADY_TERMINAL');
  });

  it('reject fails the gate, and the run with it', () => {
    given(waiting()).when(reject('gate', { actor: 'ops:fin', reason: 'over budget' })).then(
      { type: 'StepRejected', data: { stepId: 'gate', by: 'ops:fin', reason: 'over budget' } },
      { type: 'StepFailed', data: { stepId: 'gate', error: { code: 'APPROVAL.REJECTED', retryable: false } } },
      { type: 'RunFailed', data: { stepId: 'gate' } },
    );
  });

  it('a timed-out approval with onTimeout: escalate waits for an operator, whose approval resumes the run', () => {
    const due = T0 + 10 + 48 * 3_600_000;
    const escalated = given(waiting()).when(fireTimer('gate:approval:0', { now: due })).then(
      'TimerFired',
      { type: 'RunNeedsOperator', data: { code: 'APPROVAL.TIMED_OUT', stepId: 'gate' } },
    );
    given(escalated.events).when(approve('gate', { now: due + 1 })).then('StepApproved', 'StepCompleted', 'RunResumed', { type: 'StepDispatched', data: { stepId: 'z' } }, 'TimerScheduled');
  });

  it('approving another gate does not resume a run that waits for an operator about a timed-out one', () => {
    // Given two gates, and the first timed out and escalated
    const two = workflow({
      a: { worker: 'w' },
      g1: { type: 'approval', needs: ['a'], timeout: '1h' },
      g2: { type: 'approval', needs: ['a'], timeout: '2h' },
      z: { worker: 'w', needs: ['g1', 'g2'] },
    });
    const escalated = play([], startRun(two), stepCompleted('a'), fireTimer('g1:approval:0', at(3_600_000)));
    expect(stateOf(escalated)).toMatchObject({ status: 'needs_operator', attention: { code: 'APPROVAL.TIMED_OUT', stepId: 'g1' } });
    // When g2 is approved, Then g2 completes but the run still waits for someone to deal with g1
    const approved = given(escalated).when(approve('g2', at(3_700_000))).thenIncludes('StepApproved', { type: 'StepCompleted', data: { stepId: 'g2' } });
    expect(approved.state).toMatchObject({ status: 'needs_operator', attention: { code: 'APPROVAL.TIMED_OUT', stepId: 'g1' } });
    expect(dispatches(approved.produced)).toEqual([]);
  });

  it('a second approval timing out does not make the run forget the first', () => {
    // Given two gates that both timed out and escalated, g1 first
    const two = workflow({
      a: { worker: 'w' },
      g1: { type: 'approval', needs: ['a'], timeout: '1h' },
      g2: { type: 'approval', needs: ['a'], timeout: '2h' },
      z: { worker: 'w', needs: ['g1', 'g2'] },
    });
    const both = play([], startRun(two), stepCompleted('a'), fireTimer('g1:approval:0', at(3_600_000)), fireTimer('g2:approval:0', at(7_200_000)));
    // When the operator approves g2, Then the run still waits for an operator about g1, which has no deadline left
    const approved = given(both).when(approve('g2', at(7_300_000))).thenIncludes('StepApproved', { type: 'StepCompleted', data: { stepId: 'g2' } });
    expect(approved.state).toMatchObject({ status: 'needs_operator', attention: { code: 'APPROVAL.TIMED_OUT', stepId: 'g1' } });
  });

  it('a timed-out approval with onTimeout: fail fails the gate', () => {
    given(waiting({ onTimeout: 'fail' })).when(fireTimer('gate:approval:0', at(10 + 48 * 3_600_000))).then(
      'TimerFired',
      { type: 'StepFailed', data: { stepId: 'gate', error: { code: 'APPROVAL.TIMED_OUT' } } },
      'RunFailed',
    );
  });
});

describe('governance before side effects', () => {
  const def = workflow({
    a: { worker: 'identity', action: 'create-account', sideEffect: true, input: { email: '${{ input.email }}' } },
    b: { worker: 'w', needs: ['a'] },
  });
  const checking = play([], startRun(def, { email: 'ada@example.com' }));

  it('asks governance first and dispatches nothing', () => {
    given().when(startRun(def, { email: 'ada@example.com' })).then(
      'RunStarted',
      { type: 'GovernanceCheckRequested', data: { stepId: 'a', worker: 'identity', action: 'create-account', input: { email: 'ada@example.com' } } },
    );
    expect(stateOf(checking).steps.a?.status).toBe('waiting_governance');
  });

  it('allow dispatches the step', () => {
    given(checking).when(governance('a', 'allow', { policyId: 'baseline-allow' })).then(
      { type: 'GovernanceDecided', data: { stepId: 'a', outcome: 'allow', policyId: 'baseline-allow' } },
      { type: 'StepDispatched', data: { stepId: 'a', attempt: 1, input: { email: 'ada@example.com' } } },
      'TimerScheduled',
    );
  });

  it('deny fails the step for good, naming the policy', () => {
    const denied = given(checking).when(governance('a', 'deny', { policyId: 'blocked-domain', reason: 'blocked domain' })).then(
      { type: 'GovernanceDecided', data: { outcome: 'deny', policyId: 'blocked-domain' } },
      { type: 'StepFailed', data: { stepId: 'a', error: { code: 'GOVERNANCE.DENIED', retryable: false, details: { policyId: 'blocked-domain', reason: 'blocked domain' } } } },
      { type: 'RunFailed', data: { stepId: 'a', error: { code: 'GOVERNANCE.DENIED' } } },
    );
    expect(ofType(denied.produced, 'StepFailed')[0]?.data.error.message).toContain('blocked-domain');
  });

  it('an operator retry with edited input is checked again before it is dispatched', () => {
    // Given governance allowed a@example.com, the attempt failed and the run escalated
    const escalating = workflow({ a: { worker: 'identity', sideEffect: true, retry: { maxAttempts: 1 }, input: { email: '${{ input.email }}' } } }, { onFailure: 'escalate' });
    const failed = play([], startRun(escalating, { email: 'ada@example.com' }), governance('a', 'allow'), stepFailed('a'));
    // When the operator retries it for another address, Then governance sees the new input before any worker does
    const retried = given(failed).when(retryStep('a', { input: { email: 'eve@blocked.example' } })).thenIncludes(
      'OperatorRetried',
      { type: 'GovernanceCheckRequested', data: { stepId: 'a', input: { email: 'eve@blocked.example' } } },
    );
    expect(dispatches(retried.produced)).toEqual([]);
    // and a retry with the input governance already allowed goes straight to the worker
    given(failed).when(retryStep('a')).thenIncludes({ type: 'StepDispatched', data: { stepId: 'a', attempt: 2, input: { email: 'ada@example.com' } } });
  });

  it('require_approval opens a gate; approving it dispatches the step (and does not complete it)', () => {
    const gate = given(checking).when(governance('a', 'require_approval', { policyId: 'contractor-needs-approval' })).then(
      { type: 'GovernanceDecided', data: { outcome: 'require_approval' } },
      { type: 'ApprovalRequested', data: { stepId: 'a', cause: 'governance' } },
    );
    given(gate.events).when(approve('a', { actor: 'ops:sec' })).then(
      { type: 'StepApproved', data: { stepId: 'a', by: 'ops:sec' } },
      { type: 'StepDispatched', data: { stepId: 'a', attempt: 1 } },
      'TimerScheduled',
    );
    given(gate.events).when(reject('a')).then('StepRejected', { type: 'StepFailed', data: { error: { code: 'APPROVAL.REJECTED' } } }, 'RunFailed');
  });
});

describe('pause, resume and cancel', () => {
  const def = workflow({ a: { worker: 'w' }, b: { worker: 'w', needs: ['a'] }, c: { worker: 'w' } });
  const paused = play([], startRun(def), stepFailed('c', at(10)), pause({ actor: 'ops:ada', ...at(20) }));

  it('pause stops dispatch, but completions and due retries are still recorded', () => {
    given(play([], startRun(def), stepFailed('c', at(10)))).when(pause({ actor: 'ops:ada', reason: 'investigating', ...at(20) })).then(
      { type: 'RunPaused', data: { by: 'ops:ada', reason: 'investigating' } },
    );
    given(paused).when(stepCompleted('a', at(30))).then('StepCompleted');
    given(play(paused, stepCompleted('a', at(30)))).when(fireTimer('c:2:retry', at(1_010))).then('TimerFired');
  });

  it('resume dispatches what became ready and the retries that fell due', () => {
    const history = play(paused, stepCompleted('a', at(30)), fireTimer('c:2:retry', at(1_010)));
    given(history).when(resume({ actor: 'ops:ada', ...at(2_000) })).then(
      { type: 'RunResumed', data: { by: 'ops:ada' } },
      { type: 'StepDispatched', data: { stepId: 'b', attempt: 1 } },
      'TimerScheduled',
      { type: 'StepDispatched', data: { stepId: 'c', attempt: 2 } },
      'TimerScheduled',
    );
  });

  it('cancel ends the run, cancels what is in flight, and drops its timers', () => {
    const cancelled = given(play([], startRun(def))).when(cancel({ actor: 'ops:ada', reason: 'duplicate hire' })).then({ type: 'RunCancelled', data: { by: 'ops:ada', reason: 'duplicate hire' } });
    expect(cancelled.state).toMatchObject({ status: 'cancelled', timers: {}, steps: { a: { status: 'cancelled' }, b: { status: 'cancelled' }, c: { status: 'cancelled' } } });
    given(cancelled.events).when(stepCompleted('a')).thenNothing();
  });
});

describe('operator commands that do not apply are errors with stable codes', () => {
  const def = workflow({ a: { worker: 'w' }, gate: { type: 'approval', needs: ['a'] } });
  const running = play([], startRun(def));

  it.each([
    ['RUN.NOT_FOUND', [], pause()],
    ['RUN.NOT_RUNNING', play(running, pause()), pause()],
    ['RUN.NOT_PAUSED', running, resume()],
    ['RUN.ALREADY_TERMINAL', play(running, cancel()), cancel()],
    ['RUN.ALREADY_TERMINAL', play(running, cancel()), retryStep('a')],
    ['STEP.NOT_FOUND', running, approve('ghost')],
    ['STEP.NOT_FOUND', running, skipStep('ghost', null)],
    ['STEP.NOT_AWAITING_APPROVAL', running, approve('a')],
    ['STEP.NOT_AWAITING_APPROVAL', running, reject('gate')],
    ['STEP.NOT_FAILED', running, retryStep('a')],
    ['STEP.ALREADY_TERMINAL', play(running, stepCompleted('a')), retryStep('a')],
    ['COMMAND.INVALID', running, skipStep('a', undefined)],
  ] as const)('%s', (code, history, command) => {
    given(history).when(command).thenThrows(code);
  });

  it('STEP.NOT_RETRYABLE_NOW for a failed step once the run is compensating', () => {
    const saga = workflow({ a: { worker: 'w', compensate: { action: 'undo' } }, b: { worker: 'w', needs: ['a'], retry: { maxAttempts: 1 } } }, { onFailure: 'compensate' });
    const history = play([], startRun(saga), stepCompleted('a'), stepFailed('b'));
    expect(stateOf(history).status).toBe('compensating');
    given(history).when(retryStep('b')).thenThrows('STEP.NOT_RETRYABLE_NOW');
  });
});

describe('replay', () => {
  it('folding the stream gives the state the decider built step by step, at every revision', () => {
    const def = workflow({
      a: { worker: 'w', compensate: { action: 'undo' }, heartbeatTimeout: '5s' },
      gate: { type: 'approval', needs: ['a'] },
      b: { worker: 'w', needs: ['a'], sideEffect: true, compensate: { action: 'undo' } },
      c: { worker: 'w', needs: ['gate', 'b'], retry: { maxAttempts: 1 } },
    }, { onFailure: 'compensate' });
    const commands = [
      startRun(def, { n: 1 }), stepStarted('a', at(1)), heartbeat('a', at(3)), stepFailed('a', at(4)), fireTimer('a:2:retry', at(1_004)),
      stepCompleted('a', { attempt: 2, ...at(1_100) }), governance('b', 'allow', at(1_200)), approve('gate', at(1_300)), stepCompleted('b', at(1_400)),
      stepFailed('c', at(1_500)), stepCompleted('b', { phase: 'compensate', ...at(1_600) }), stepCompleted('a', { phase: 'compensate', ...at(1_700) }),
    ];
    let state: RunState = initialState();
    const events: WorkflowEvent[] = [];
    const states: RunState[] = [];
    for (const command of commands) {
      for (const event of decide(command, state)) {
        state = evolve(state, event);
        events.push(event);
        states.push(state);
      }
    }
    expect(stateOf(events).status).toBe('compensated');
    expect(fold(events)).toEqual(state);
    expect(fold(events)).toEqual(fold(events));
    expect(stateOf(events).version).toBe(events.length);
    states.forEach((s, i) => expect(fold(events.slice(0, i + 1))).toEqual(s));
    // and the events survive a round trip through JSON, as they do through the event store
    expect(fold(JSON.parse(JSON.stringify(events)) as WorkflowEvent[])).toEqual(JSON.parse(JSON.stringify(state)));
  });
});
