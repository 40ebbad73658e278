/**
 * Messages that change nothing say why (unapplied.ts): a duplicate, late or stale report is a known no-op; a report
 * about a run, step or attempt that does not exist is rejected, for the runtime to dead-letter.
 */
import { describe, expect, it } from '@jest/globals';
import {
  compensate,
  fireTimer,
  given,
  governance,
  heartbeat,
  holdStep,
  play,
  releaseStep,
  retryStep,
  startRun,
  stateOf,
  stepCompleted,
  stepFailed,
  stepStarted,
  T0,
  workflow,
} from './testing/decider-spec.ts';

const at = (ms: number) => ({ now: T0 + ms });

describe('duplicate, late and stale reports are known no-ops, ignored with their reason', () => {
  const def = workflow({ a: { worker: 'w' }, b: { worker: 'w', needs: ['a'] } });
  const running = play([], startRun(def));

  it('a redelivered completion or failure: the attempt is over', () => {
    const completed = play(running, stepCompleted('a'));
    given(completed)
      .when(stepCompleted('a', at(5)))
      .thenIgnores('attempt_settled', /attempt 1 of step "a" is over: it is completed/);
    given(completed)
      .when(stepFailed('a', at(5)))
      .thenIgnores('attempt_settled');
    given(play(running, stepFailed('a', { error: { retryable: false } })))
      .when(stepCompleted('a', at(5)))
      .thenIgnores('run_ended', /the run ended \(failed\)/);
  });

  it('a redelivered start, and a heartbeat no later than the last one: nothing new', () => {
    given(play(running, stepStarted('a', at(1))))
      .when(stepStarted('a', at(2)))
      .thenIgnores('nothing_new', /had started already/);
    given(play(running, stepStarted('a', at(1)), heartbeat('a', at(2))))
      .when(heartbeat('a', at(2)))
      .thenIgnores('nothing_new', /no later than the last one/);
  });

  it('a report for an older attempt than the last one dispatched: superseded', () => {
    const second = play(running, stepFailed('a'), fireTimer('a:2:retry', at(1_000)));
    expect(stateOf(second).steps.a).toMatchObject({ status: 'running', attempt: 2 });
    for (const stale of [
      stepCompleted('a', { attempt: 1 }),
      stepFailed('a', { attempt: 1 }),
      stepStarted('a', { attempt: 1 }),
      heartbeat('a', { attempt: 1 }),
    ]) {
      given(second)
        .when(stale)
        .thenIgnores('attempt_superseded', /attempt 1 of step "a" was superseded by attempt 2/);
    }
  });

  it('a completion that comes after the attempt timed out is late, not unknown', () => {
    const timedOut = play(running, fireTimer('a:1:timeout', at(30_000)));
    expect(stateOf(timedOut).steps.a?.status).toBe('retry_scheduled');
    given(timedOut)
      .when(stepCompleted('a', at(30_001)))
      .thenIgnores('attempt_settled', /retry_scheduled/);
  });

  it('anything after the run has ended', () => {
    const done = play(running, stepCompleted('a'), stepCompleted('b'));
    expect(stateOf(done).status).toBe('completed');
    for (const late of [stepCompleted('b', at(9)), stepFailed('b', at(9)), stepStarted('b', at(9))])
      given(done)
        .when(late)
        .thenIgnores('run_ended', /the run ended \(completed\)/);
    given(done)
      .when(fireTimer('b:1:timeout', at(9)))
      .thenIgnores('timer_gone');
  });

  it('a start with the idempotency key of the run it started', () => {
    const started = play([], startRun(def, {}, { idempotencyKey: 'k-1' }));
    given(started)
      .when(startRun(def, {}, { idempotencyKey: 'k-1' }))
      .thenIgnores('duplicate_start');
  });

  it('a hold or release that does not apply', () => {
    given(running).when(releaseStep('a')).thenIgnores('hold_moot');
    given(play(running, holdStep('a')))
      .when(holdStep('a'))
      .thenIgnores('hold_moot');
  });
});

describe('governance rulings that change nothing', () => {
  const def = workflow({ pay: { worker: 'payments', sideEffect: true }, log: { worker: 'w' } });
  const asking = play([], startRun(def));

  it('a ruling on a step that no longer waits for it is ignored', () => {
    const allowed = play(asking, governance('pay', 'allow'));
    given(allowed)
      .when(governance('pay', 'allow', at(5)))
      .thenIgnores('ruling_not_awaited', /running/);
  });

  it('a ruling about another input than the one last asked about is stale', () => {
    given(asking)
      .when(governance('pay', 'allow', { inputDigest: 'f'.repeat(64) }))
      .thenIgnores('ruling_stale');
  });

  it('a ruling on a step governance does not rule on, or one the run lacks, is rejected', () => {
    given(asking)
      .when(governance('log', 'allow'))
      .thenRejects('COMMAND.INVALID', /governance does not rule on step "log"/);
    given(asking)
      .when(governance('ghost', 'deny'))
      .thenRejects('STEP.NOT_FOUND', /the run has no step "ghost"/);
  });
});

describe('reports about what the run does not have are rejected, naming it', () => {
  const def = workflow({
    a: { worker: 'w', compensate: { action: 'undo' } },
    b: { worker: 'w', needs: ['a'] },
    gate: { type: 'approval', needs: ['a'] },
  });
  const running = play([], startRun(def));

  it('a run that does not exist', () => {
    given()
      .when(stepCompleted('a'))
      .thenRejects('RUN.NOT_FOUND', /the run does not exist/);
    given().when(governance('a', 'allow')).thenRejects('RUN.NOT_FOUND');
    given().when(heartbeat('a')).thenRejects('RUN.NOT_FOUND');
  });

  it('a step the definition does not have, whatever its name (prototype keys too)', () => {
    for (const stepId of ['ghost', '__proto__', 'constructor', 'toString', 'hasOwnProperty', 'x'.repeat(10_000)]) {
      given(running)
        .when(stepCompleted(stepId))
        .thenRejects('STEP.NOT_FOUND', /the run has no step ".*".* \(definition "wf" v1\)/);
      given(running).when(stepFailed(stepId)).thenRejects('STEP.NOT_FOUND');
      given(running).when(heartbeat(stepId)).thenRejects('STEP.NOT_FOUND');
    }
  });

  it('a step no worker runs', () => {
    given(play(running, stepCompleted('a')))
      .when(stepCompleted('gate'))
      .thenRejects('COMMAND.INVALID', /"gate" is an approval step: no worker runs it/);
  });

  it('an attempt that was never dispatched', () => {
    given(running)
      .when(stepCompleted('a', { attempt: 2 }))
      .thenRejects('COMMAND.INVALID', /attempt 2 of step "a" was never dispatched \(the last was 1\)/);
    // b waits for a: nothing of it has gone out.
    given(running)
      .when(stepCompleted('b'))
      .thenRejects('COMMAND.INVALID', /the last was 0/);
    given(running)
      .when(stepCompleted('a', { attempt: Number.MAX_SAFE_INTEGER }))
      .thenRejects('COMMAND.INVALID');
  });

  it('a compensation that was never dispatched, or that the step does not have', () => {
    given(running)
      .when(stepCompleted('a', { phase: 'compensate' }))
      .thenRejects('COMMAND.INVALID', /attempt 1 of the compensation of step "a" was never dispatched/);
    given(running)
      .when(stepCompleted('b', { phase: 'compensate' }))
      .thenRejects('COMMAND.INVALID', /step "b" has no compensation/);
  });

  it('an unknown attempt is rejected even after the run ended (no delivery order explains it)', () => {
    const compensating = play(running, stepCompleted('a'), compensate());
    given(compensating)
      .when(stepCompleted('a', { phase: 'compensate', attempt: 7 }))
      .thenRejects('COMMAND.INVALID');
  });

  it('an attempt an operator retry superseded is late, and the new one is applied', () => {
    const escalating = workflow({ a: { worker: 'w' } }, { onFailure: 'escalate' });
    const failed = play([], startRun(escalating), stepFailed('a', { error: { retryable: false } }));
    const retried = play(failed, retryStep('a', at(10)));
    given(retried)
      .when(stepCompleted('a', { attempt: 1 }))
      .thenIgnores('attempt_superseded');
    given(retried)
      .when(stepCompleted('a', { attempt: 2 }))
      .thenIncludes('StepCompleted');
  });
});
