/** The decider's core paths: start, joins, conditions, retries, timeouts, and reports that change nothing. */
import { describe, expect, it } from '@jest/globals';
import { decide, fold } from './index.ts';
import {
  fireTimer,
  given,
  heartbeat,
  ofType,
  play,
  RUN_ID,
  startRun,
  stateOf,
  stepCompleted,
  stepFailed,
  stepStarted,
  T0,
  workflow,
} from './testing/decider-spec.ts';

const at = (ms: number) => ({ now: T0 + ms });
const terminalError = { retryable: false };

describe('start', () => {
  const def = workflow({
    a: { worker: 'wa' },
    b: { worker: 'wb', action: 'go' },
    c: { worker: 'wc', needs: ['a', 'b'] },
  });

  it('records the run and dispatches the roots only, each with an identified attempt and a timeout', () => {
    const started = given()
      .when(startRun(def, { email: 'ada@example.com' }, { actor: 'producer:hr' }))
      .then(
        {
          type: 'RunStarted',
          data: {
            runId: RUN_ID,
            definition: def,
            input: { email: 'ada@example.com' },
            idempotencyKey: null,
            startedBy: 'producer:hr',
            at: T0,
          },
        },
        {
          type: 'StepDispatched',
          data: {
            stepId: 'a',
            attempt: 1,
            phase: 'execute',
            worker: 'wa',
            action: null,
            input: { email: 'ada@example.com' },
            idempotencyKey: `${RUN_ID}/a/1`,
            timeoutAt: T0 + 30_000,
            at: T0,
          },
        },
        {
          type: 'StepDispatched',
          data: { stepId: 'b', attempt: 1, worker: 'wb', action: 'go', idempotencyKey: `${RUN_ID}/b/1` },
        },
      );
    // Each dispatch arms its attempt's timeout as it is folded.
    expect(started.state.timers).toEqual({
      'a:1:timeout': {
        id: 'a:1:timeout',
        kind: 'attempt_timeout',
        stepId: 'a',
        attempt: 1,
        phase: 'execute',
        dueAt: T0 + 30_000,
      },
      'b:1:timeout': {
        id: 'b:1:timeout',
        kind: 'attempt_timeout',
        stepId: 'b',
        attempt: 1,
        phase: 'execute',
        dueAt: T0 + 30_000,
      },
    });
  });

  it('is idempotent by idempotencyKey; another key for the same run is an error', () => {
    const history = play([], startRun(def, {}, { idempotencyKey: 'k-1' }));
    given(history)
      .when(startRun(def, {}, { idempotencyKey: 'k-1', now: T0 + 5 }))
      .thenNothing();
    given(history)
      .when(startRun(def, {}, { idempotencyKey: 'k-2' }))
      .thenThrows('RUN.ALREADY_EXISTS');
    given(history).when(startRun(def, {})).thenThrows('RUN.ALREADY_EXISTS');
  });

  it('rejects input that does not match the input schema, naming the field', () => {
    const strict = workflow(
      { a: { worker: 'w' } },
      { input: { schema: { type: 'object', required: ['email'], properties: { email: { type: 'string' } } } } },
    );
    const error = given()
      .when(startRun(strict, { name: 'Ada' }))
      .thenThrows('RUN.INPUT_INVALID');
    expect(error.message).toContain('/input/email: missing required field "email"');
    expect(error.details).toEqual({ issues: [{ path: '/input/email', message: 'missing required field "email"' }] });
    given()
      .when(startRun(strict, { email: 'ada@example.com' }))
      .thenIncludes('RunStarted', { type: 'StepDispatched', data: { stepId: 'a' } });
  });

  it('maps step input from the run input and upstream outputs, and runs independent branches in parallel', () => {
    const mapped = workflow({
      a: { worker: 'w', input: { email: '${{ input.email }}' } },
      b: { worker: 'w', needs: ['a'], input: { account: "${{ steps['a'].output.id }}", next: '${{ input.n + 1 }}' } },
      c: { worker: 'w', needs: ['a'], input: 'hello ${{ input.email }}' },
    });
    const history = play([], startRun(mapped, { email: 'ada@example.com', n: 1 }));
    expect(ofType(history, 'StepDispatched')[0]?.data.input).toEqual({ email: 'ada@example.com' });
    given(history)
      .when(stepCompleted('a', { output: { id: 'acc-1' } }))
      .then(
        { type: 'StepCompleted', data: { stepId: 'a', attempt: 1, output: { id: 'acc-1' } } },
        { type: 'StepDispatched', data: { stepId: 'b', input: { account: 'acc-1', next: 2 } } },
        { type: 'StepDispatched', data: { stepId: 'c', input: 'hello ada@example.com' } },
      );
  });

  it('completes the run when every step is done', () => {
    const history = play([], startRun(def), stepCompleted('a'), stepCompleted('b'));
    given(history)
      .when(stepCompleted('c', at(9)))
      .then('StepCompleted', { type: 'RunCompleted', data: { at: T0 + 9 } });
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
    given(play(history, stepCompleted('r2')))
      .when(stepCompleted('r3'))
      .then('StepCompleted', xDispatched);
  });

  it('any_success waits through a failure for the first success', () => {
    const history = fanIn('any_success', 2);
    // the failure is absorbed: x tolerates it, so the run neither fails nor dispatches x yet
    given(history)
      .when(stepFailed('r1', { error: terminalError }))
      .then('StepAttemptFailed', 'StepFailed');
    given(play(history, stepFailed('r1', { error: terminalError })))
      .when(stepCompleted('r2'))
      .then('StepCompleted', xDispatched);
  });

  it('majority runs on more than half, without waiting for the rest', () => {
    const history = fanIn('majority', 3);
    given(history).when(stepCompleted('r1')).then('StepCompleted');
    given(play(history, stepCompleted('r1')))
      .when(stepCompleted('r2'))
      .then('StepCompleted', xDispatched);
    expect(stateOf(play(history, stepCompleted('r1'), stepCompleted('r2'))).steps.r3?.status).toBe('running');
  });

  it('quorum(2) needs two successes, and fails the step once two are out of reach', () => {
    const history = play(fanIn('quorum(2)', 3), stepFailed('r1', { error: terminalError }));
    given(history).when(stepCompleted('r2')).then('StepCompleted');
    given(play(history, stepCompleted('r2')))
      .when(stepCompleted('r3'))
      .then('StepCompleted', xDispatched);
    given(history)
      .when(stepFailed('r2', { error: terminalError }))
      .then(
        'StepAttemptFailed',
        { type: 'StepFailed', data: { stepId: 'r2' } },
        { type: 'StepFailed', data: { stepId: 'x', error: { code: 'JOIN.UNSATISFIED', retryable: false } } },
        { type: 'RunFailed', data: { stepId: 'x' } },
      );
  });

  it('all_done waits for every need to finish, whatever the outcome, and the run still completes', () => {
    const history = fanIn('all_done', 2);
    given(history)
      .when(stepFailed('r1', { error: terminalError }))
      .then('StepAttemptFailed', 'StepFailed');
    const done = given(play(history, stepFailed('r1', { error: terminalError })))
      .when(stepCompleted('r2'))
      .then('StepCompleted', xDispatched);
    given(done.events).when(stepCompleted('x')).then('StepCompleted', 'RunCompleted');
  });

  it('all_success fails the run when a need fails', () => {
    given(fanIn('all_success', 2))
      .when(stepFailed('r1', { error: terminalError }))
      .then(
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
    given(play([], startRun(def, { withB: false })))
      .when(stepCompleted('a'))
      .then(
        'StepCompleted',
        {
          type: 'StepSkipped',
          data: { stepId: 'b', kind: 'condition', output: null, by: null, reason: 'when evaluated to false' },
        },
        { type: 'StepDispatched', data: { stepId: 'c', input: { b: 'skipped' } } },
      );
  });

  it('runs the step when its condition holds', () => {
    given(play([], startRun(def, { withB: true })))
      .when(stepCompleted('a'))
      .then('StepCompleted', { type: 'StepDispatched', data: { stepId: 'b' } });
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
      if (!scheduled || scheduled.data.nextAttempt !== attempt + 1)
        throw new Error(`attempt ${attempt} did not schedule a retry`);
      out.push(scheduled.data.retryAt - failedAt);
      events = play(events, fireTimer(`a:${attempt + 1}:retry`, { now: scheduled.data.retryAt }));
    }
    return out;
  };

  it('schedules the next attempt after exponential backoff, capped at maxDelay, and dispatches it when the timer fires', () => {
    const def = retrying({
      maxAttempts: 4,
      backoff: 'exponential',
      initialDelay: '1s',
      maxDelay: '3s',
      jitter: 'none',
    });
    const history = play([], startRun(def, { v: 1 }));
    const retry = given(history)
      .when(stepFailed('a', at(100)))
      .then(
        {
          type: 'StepAttemptFailed',
          data: { stepId: 'a', attempt: 1, phase: 'execute', error: { code: 'WORKER.ERROR', retryable: true } },
        },
        { type: 'StepRetryScheduled', data: { stepId: 'a', phase: 'execute', nextAttempt: 2, retryAt: T0 + 1_100 } },
      );
    // The retry scheduled arms its timer as it is folded (and the failure disarmed the attempt's timeout).
    expect(retry.state.timers).toEqual({
      'a:2:retry': { id: 'a:2:retry', kind: 'retry', stepId: 'a', attempt: 2, phase: 'execute', dueAt: T0 + 1_100 },
    });
    given(retry.events)
      .when(fireTimer('a:2:retry', at(1_100)))
      .then(
        { type: 'TimerFired', data: { timerId: 'a:2:retry' } },
        { type: 'StepDispatched', data: { stepId: 'a', attempt: 2, input: { v: 1 }, idempotencyKey: `${RUN_ID}/a/2` } },
      );
    expect(delays(def, RUN_ID, 3)).toEqual([1_000, 2_000, 3_000]);
  });

  it('fixed backoff waits the same each time', () => {
    expect(
      delays(retrying({ maxAttempts: 4, backoff: 'fixed', initialDelay: '2s', jitter: 'none' }), RUN_ID, 3),
    ).toEqual([2_000, 2_000, 2_000]);
  });

  it('jitter stays inside its bounds, is the same for the same attempt, and differs between attempts of different runs', () => {
    const full = retrying({
      maxAttempts: 4,
      backoff: 'exponential',
      initialDelay: '1s',
      maxDelay: '3s',
      jitter: 'full',
    });
    const equal = retrying({
      maxAttempts: 4,
      backoff: 'exponential',
      initialDelay: '1s',
      maxDelay: '3s',
      jitter: 'equal',
    });
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
    given(play([], startRun(retrying({ maxAttempts: 5 }))))
      .when(stepFailed('a', { error: { code: 'CARD.DECLINED', retryable: false } }))
      .then(
        { type: 'StepAttemptFailed', data: { error: { code: 'CARD.DECLINED', retryable: false } } },
        { type: 'StepFailed', data: { stepId: 'a', attempt: 1, error: { code: 'CARD.DECLINED' } } },
        'RunFailed',
      );
  });

  it('does not retry an error whose code the definition lists as non-retryable, whatever the worker says', () => {
    const def = retrying({ maxAttempts: 5, nonRetryable: ['CARD.DECLINED'] });
    given(play([], startRun(def)))
      .when(stepFailed('a', { error: { code: 'CARD.DECLINED', retryable: true } }))
      .then('StepAttemptFailed', 'StepFailed', 'RunFailed');
    given(play([], startRun(def)))
      .when(stepFailed('a', { error: { code: 'NET.RESET', retryable: true } }))
      .then('StepAttemptFailed', 'StepRetryScheduled');
  });

  it('fails the step once maxAttempts are used up', () => {
    const def = retrying({ maxAttempts: 2, initialDelay: '1s', jitter: 'none' });
    const history = play([], startRun(def), stepFailed('a', at(0)), fireTimer('a:2:retry', at(1_000)));
    given(history)
      .when(stepFailed('a', { attempt: 2, ...at(2_000) }))
      .then(
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
    const timedOut = given(running)
      .when(fireTimer('a:1:timeout', at(60_000)))
      .then(
        { type: 'TimerFired', data: { timerId: 'a:1:timeout' } },
        { type: 'StepAttemptFailed', data: { attempt: 1, error: { code: 'STEP.TIMED_OUT', retryable: true } } },
        { type: 'StepRetryScheduled', data: { nextAttempt: 2, retryAt: T0 + 61_000 } },
      );
    expect(Object.keys(timedOut.state.timers)).toEqual(['a:2:retry']);
    // the worker that finally answers for the timed-out attempt changes nothing
    given(timedOut.events)
      .when(stepCompleted('a', { attempt: 1, ...at(60_500) }))
      .thenNothing();
    given(timedOut.events)
      .when(fireTimer('a:2:retry', at(61_000)))
      .then('TimerFired', { type: 'StepDispatched', data: { attempt: 2 } });
  });

  it('arms a heartbeat timer when the attempt starts, and fails the attempt when the worker goes silent', () => {
    const started = given(running)
      .when(stepStarted('a', at(1_000)))
      .then(
        { type: 'StepStarted', data: { stepId: 'a', attempt: 1, at: T0 + 1_000 } },
        {
          type: 'TimerScheduled',
          data: {
            timer: { id: `a:1:heartbeat@${T0 + 11_000}`, kind: 'heartbeat_timeout', attempt: 1, dueAt: T0 + 11_000 },
          },
        },
      );
    const silent = given(started.events)
      .when(fireTimer(`a:1:heartbeat@${T0 + 11_000}`, at(11_000)))
      .then(
        'TimerFired',
        {
          type: 'StepAttemptFailed',
          data: { attempt: 1, error: { code: 'STEP.HEARTBEAT_TIMED_OUT', retryable: true } },
        },
        { type: 'StepRetryScheduled', data: { nextAttempt: 2 } },
      );
    expect(Object.keys(silent.state.timers)).toEqual(['a:2:retry']);
  });

  it('a heartbeat extends the deadline instead', () => {
    const beating = play(running, stepStarted('a', at(1_000)), heartbeat('a', at(8_000)));
    const extended = given(beating)
      .when(fireTimer(`a:1:heartbeat@${T0 + 11_000}`, at(11_000)))
      .then('TimerFired', {
        type: 'TimerScheduled',
        data: { timer: { id: `a:1:heartbeat@${T0 + 18_000}`, kind: 'heartbeat_timeout', dueAt: T0 + 18_000 } },
      });
    expect(extended.state.steps.a?.status).toBe('running');
    given(extended.events)
      .when(fireTimer(`a:1:heartbeat@${T0 + 18_000}`, at(18_000)))
      .thenIncludes({ type: 'StepAttemptFailed', data: { error: { code: 'STEP.HEARTBEAT_TIMED_OUT' } } });
  });

  it('records a first heartbeat without a start as the start', () => {
    given(running)
      .when(heartbeat('a', at(500)))
      .then(
        { type: 'StepStarted', data: { at: T0 + 500 } },
        { type: 'TimerScheduled', data: { timer: { dueAt: T0 + 10_500 } } },
      );
  });
});
