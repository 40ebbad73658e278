import { describe, expect, it } from '@jest/globals';
import {
  cancel,
  dispatches,
  fireTimer,
  given,
  governance,
  governanceUnevaluable,
  play,
  retryStep,
  skipStep,
  startRun,
  stateOf,
  stepFailed,
  T0,
  timerIdOf,
  workflow,
} from './testing/decider-spec.ts';
import { errorOf } from './state.ts';

const at = (ms: number) => ({ now: T0 + ms });
const MINUTE = 60_000;
const REASON =
  'Cedar could not evaluate the request: context.input.name: the string holds a lone surrogate (\\ud800 at index 0)';

describe('governance could not evaluate the request: decided once, fail closed, an operator acts', () => {
  // onFailure: fail, so a plain deny would end the run: the unevaluable outcome must not.
  const def = workflow({
    a: { worker: 'identity', action: 'create-account', sideEffect: true, input: { name: '${{ input.name }}' } },
    b: { worker: 'mail', needs: ['a'] },
  });
  const waiting = play([], startRun(def, { name: 'ada' }));
  const undecidable = play(waiting, governanceUnevaluable('a', { ...at(10), reason: REASON }));

  it('records the decision with its code, fails the step without running it, and waits for an operator (not onFailure)', () => {
    const decided = given(waiting)
      .when(governanceUnevaluable('a', { ...at(10), reason: REASON, actor: 'system:governance' }))
      .then(
        {
          type: 'GovernanceDecided',
          data: { stepId: 'a', outcome: 'deny', code: 'GOVERNANCE.UNEVALUABLE', policyId: null, reason: REASON },
        },
        {
          type: 'StepFailed',
          data: {
            stepId: 'a',
            attempt: 0,
            error: { code: 'GOVERNANCE.UNEVALUABLE', retryable: false, details: { reason: REASON } },
          },
        },
        { type: 'RunNeedsOperator', data: { code: 'GOVERNANCE.UNEVALUABLE', stepId: 'a', at: T0 + 10 } },
      );
    expect(decided.state).toMatchObject({
      status: 'needs_operator',
      attention: { code: 'GOVERNANCE.UNEVALUABLE', stepId: 'a' },
      steps: { a: { status: 'failed' }, b: { status: 'pending' } },
      timers: {},
    });
    expect(errorOf(decided.state.steps.a)?.message).toBe(
      `governance could not evaluate the request, so the step did not run: ${REASON}`,
    );
    expect(decided.state.attention?.message).toContain('retry it with an edited input');
    expect(dispatches(decided.produced)).toEqual([]);
  });

  it('an ordinary deny still follows onFailure: the code is what makes the difference', () => {
    given(waiting)
      .when(governance('a', 'deny', { policyId: 'blocked' }))
      .then(
        { type: 'GovernanceDecided', data: { outcome: 'deny' } },
        { type: 'StepFailed', data: { error: { code: 'GOVERNANCE.DENIED' } } },
        { type: 'RunFailed', data: { stepId: 'a' } },
      );
  });

  it('a code on an allow is ignored, and not recorded: only a deny can say it could not be evaluated', () => {
    const allowed = given(waiting)
      .when(governance('a', 'allow', { code: 'GOVERNANCE.UNEVALUABLE' }))
      .thenIncludes('GovernanceDecided', 'StepDispatched');
    expect(allowed.produced[0]?.data).not.toHaveProperty('code');
  });

  it('a second decision for the same request changes nothing: the step no longer waits', () => {
    given(undecidable)
      .when(governanceUnevaluable('a', at(20)))
      .thenNothing();
    given(undecidable)
      .when(governance('a', 'allow', at(20)))
      .thenNothing();
  });

  it('its governance deadline is dropped: the run is not told twice', () => {
    given(undecidable)
      .when(fireTimer(timerIdOf(waiting, 'governance_timeout', 'a'), at(MINUTE)))
      .thenNothing();
  });

  it('retry with an edited input resumes the run and asks governance again about that input; an allow then dispatches it', () => {
    const retried = given(undecidable)
      .when(retryStep('a', { input: { name: 'ada lovelace' }, actor: 'ops:ada', ...at(MINUTE) }))
      .then(
        { type: 'OperatorRetried', data: { stepId: 'a', input: { name: 'ada lovelace' }, by: 'ops:ada' } },
        { type: 'RunResumed', data: { by: 'ops:ada' } },
        {
          type: 'GovernanceCheckRequested',
          data: { stepId: 'a', input: { name: 'ada lovelace' }, timeoutAt: T0 + 2 * MINUTE },
        },
      );
    expect(retried.state).toMatchObject({
      status: 'running',
      attention: null,
      steps: { a: { status: 'waiting_governance', governance: null } },
    });
    given(retried.events)
      .when(governance('a', 'allow', at(MINUTE + 10)))
      .thenIncludes({ type: 'StepDispatched', data: { stepId: 'a', attempt: 1, input: { name: 'ada lovelace' } } });
  });

  it('retry without an input asks again too (the policies may have been fixed); still unevaluable, the run waits again', () => {
    const retried = play(undecidable, retryStep('a', at(MINUTE)));
    given(retried)
      .when(governanceUnevaluable('a', at(MINUTE + 10)))
      .then('GovernanceDecided', 'StepFailed', { type: 'RunNeedsOperator', data: { code: 'GOVERNANCE.UNEVALUABLE' } });
  });

  it('skip with an output lets the run go on past the step', () => {
    given(undecidable)
      .when(skipStep('a', { id: 7 }, at(MINUTE)))
      .thenIncludes('StepSkipped', 'RunResumed', { type: 'StepDispatched', data: { stepId: 'b' } });
  });

  it('cancel ends the run', () => {
    const cancelled = given(undecidable)
      .when(cancel(at(MINUTE)))
      .then('RunCancelled');
    expect(cancelled.state).toMatchObject({ status: 'cancelled', timers: {} });
  });

  it('a late unevaluable ruling, after the deadline escalated, turns the wait into this attention', () => {
    const overdue = play(waiting, fireTimer(timerIdOf(waiting, 'governance_timeout', 'a'), at(MINUTE)));
    const late = given(overdue)
      .when(governanceUnevaluable('a', at(2 * MINUTE)))
      .then('GovernanceDecided', 'StepFailed', 'RunResumed', {
        type: 'RunNeedsOperator',
        data: { code: 'GOVERNANCE.UNEVALUABLE', stepId: 'a' },
      });
    expect(late.state.status).toBe('needs_operator');
  });

  it('with two unevaluable steps, the operator is asked about one, then the other', () => {
    const two = workflow(
      { a: { worker: 'identity', sideEffect: true }, c: { worker: 'identity', sideEffect: true } },
      { onFailure: 'compensate' },
    );
    const both = play([], startRun(two), governanceUnevaluable('a', at(10)), governanceUnevaluable('c', at(20)));
    expect(stateOf(both).attention).toMatchObject({ code: 'GOVERNANCE.UNEVALUABLE', stepId: 'a' });
    given(both)
      .when(skipStep('a', null, at(30)))
      .then('StepSkipped', 'RunResumed', {
        type: 'RunNeedsOperator',
        data: { code: 'GOVERNANCE.UNEVALUABLE', stepId: 'c' },
      });
  });

  it('an unevaluable step next to a failed one: the operator is asked about it before onFailure compensates or fails', () => {
    const mixed = workflow({
      a: { worker: 'identity', sideEffect: true },
      c: { worker: 'w', retry: { maxAttempts: 1 } },
    });
    const failed = play([], startRun(mixed), stepFailed('c', at(10)));
    expect(stateOf(failed).status).toBe('failed');
    const first = play([], startRun(mixed), governanceUnevaluable('a', at(10)));
    given(first)
      .when(stepFailed('c', at(20)))
      .then('StepAttemptFailed', 'StepFailed');
  });
});
