import { describe, expect, it } from '@jest/globals';
import type { CompiledDefinition } from '@orchestron/definitions';
import {
  approve,
  cancel,
  dispatches,
  fireTimer,
  given,
  governance,
  pause,
  play,
  reject,
  resume,
  retryStep,
  skipStep,
  startRun,
  stateOf,
  stepCompleted,
  stepFailed,
  T0,
  timerIdOf,
  workflow,
} from './testing/decider-spec.ts';
import { isEscalated } from './state.ts';

const at = (ms: number) => ({ now: T0 + ms });
const MINUTE = 60_000;

describe('governance deadline: the request arms a durable timer', () => {
  it('defaults to 60s, a definition-level default replaces that, and a step overrides both', () => {
    const plain = workflow({ a: { worker: 'identity', sideEffect: true } });
    // The request carries its deadline and folding it arms the timer: no TimerScheduled of its own (ADR 39).
    const asked = given()
      .when(startRun(plain))
      .then('RunStarted', {
        type: 'GovernanceCheckRequested',
        data: { stepId: 'a', attempt: 1, timeoutAt: T0 + MINUTE },
      });
    expect(asked.state.timers).toEqual({
      [`a:1:governance@${T0 + MINUTE}`]: {
        id: `a:1:governance@${T0 + MINUTE}`,
        kind: 'governance_timeout',
        stepId: 'a',
        attempt: 1,
        phase: 'execute',
        dueAt: T0 + MINUTE,
      },
    });
    const tuned = workflow(
      {
        a: { worker: 'identity', sideEffect: true },
        b: { worker: 'identity', sideEffect: true, governanceTimeout: '30s' },
      },
      { defaults: { timeout: '30s', governanceTimeout: '2m' } },
    );
    const started = given().when(startRun(tuned)).thenIncludes('GovernanceCheckRequested', 'GovernanceCheckRequested');
    expect(
      Object.values(started.state.timers)
        .map((t) => [t.stepId, t.dueAt - T0])
        .sort(),
    ).toEqual([
      ['a', 2 * MINUTE],
      ['b', 30_000],
    ]);
  });

  it('a run pinned to a definition compiled before governanceTimeout existed gets the default', () => {
    const current = workflow({ a: { worker: 'identity', sideEffect: true } });
    const { governanceTimeoutMs: _dropped, ...legacyStep } = current.steps.a as NonNullable<
      CompiledDefinition['steps']['a']
    >;
    const legacy = { ...current, steps: { a: legacyStep } } as unknown as CompiledDefinition;
    given()
      .when(startRun(legacy))
      .thenIncludes({ type: 'GovernanceCheckRequested', data: { timeoutAt: T0 + MINUTE } });
  });
});

describe('governance deadline: fail closed, then escalate', () => {
  const def = workflow({
    a: { worker: 'identity', action: 'create-account', sideEffect: true, input: { email: '${{ input.email }}' } },
    b: { worker: 'mail', needs: ['a'] },
  });
  const waiting = play([], startRun(def, { email: 'ada@example.com' }));
  const deadline = timerIdOf(waiting, 'governance_timeout', 'a');
  const overdue = play(waiting, fireTimer(deadline, at(MINUTE)));

  it('past the deadline the run waits for an operator, naming the step and the deadline, and nothing is dispatched', () => {
    const fired = given(waiting)
      .when(fireTimer(deadline, at(MINUTE)))
      .then(
        { type: 'TimerFired', data: { timerId: deadline } },
        { type: 'RunNeedsOperator', data: { code: 'GOVERNANCE.UNAVAILABLE', stepId: 'a', at: T0 + MINUTE } },
      );
    const message = fired.state.attention?.message ?? '';
    expect(message).toContain('step "a"');
    expect(message).toContain('1m deadline');
    expect(fired.state).toMatchObject({
      status: 'needs_operator',
      steps: { a: { status: 'waiting_governance', escalated: true } },
      timers: {},
    });
  });

  it('a ruling in time cancels the timer; its late firing then changes nothing', () => {
    const allowed = given(waiting)
      .when(governance('a', 'allow', at(1_000)))
      .thenIncludes('GovernanceDecided', 'StepDispatched');
    expect(Object.values(allowed.state.timers).map((t) => t.kind)).toEqual(['attempt_timeout']);
    given(allowed.events)
      .when(fireTimer(deadline, at(MINUTE)))
      .thenNothing();
  });

  it('a late allow still applies: the run leaves needs_operator and the step is dispatched', () => {
    const late = given(overdue)
      .when(governance('a', 'allow', { ...at(2 * MINUTE), actor: 'system:governance' }))
      .then(
        { type: 'GovernanceDecided', data: { stepId: 'a', outcome: 'allow' } },
        { type: 'RunResumed', data: { by: 'system:governance', reason: 'governance ruled allow' } },
        { type: 'StepDispatched', data: { stepId: 'a', attempt: 1, input: { email: 'ada@example.com' } } },
      );
    // The step is past its gate: running, it has no deadline left to be overdue on.
    expect(late.state).toMatchObject({ status: 'running', attention: null, steps: { a: { status: 'running' } } });
    expect(isEscalated(late.state.steps.a)).toBe(false);
  });

  it('a late deny still fails the step for good', () => {
    given(overdue)
      .when(governance('a', 'deny', { ...at(2 * MINUTE), policyId: 'blocked' }))
      .then(
        { type: 'GovernanceDecided', data: { outcome: 'deny' } },
        { type: 'StepFailed', data: { stepId: 'a', error: { code: 'GOVERNANCE.DENIED', retryable: false } } },
        'RunResumed',
        { type: 'RunFailed', data: { stepId: 'a', error: { code: 'GOVERNANCE.DENIED' } } },
      );
  });

  it('a late require_approval opens the gate, and approving it dispatches the step', () => {
    const gate = given(overdue)
      .when(governance('a', 'require_approval', at(2 * MINUTE)))
      .then(
        'GovernanceDecided',
        { type: 'ApprovalRequested', data: { stepId: 'a', cause: 'governance' } },
        'RunResumed',
      );
    expect(gate.state).toMatchObject({ status: 'running', steps: { a: { status: 'waiting_approval' } } });
    given(gate.events)
      .when(approve('a', at(3 * MINUTE)))
      .thenIncludes('StepApproved', { type: 'StepDispatched', data: { stepId: 'a' } });
  });

  it('a paused run is told once it resumes, not while paused', () => {
    const paused = play(waiting, pause(at(10)));
    const fired = given(paused)
      .when(fireTimer(deadline, at(MINUTE)))
      .then('TimerFired');
    expect(fired.state.status).toBe('paused');
    given(fired.events)
      .when(resume(at(2 * MINUTE)))
      .then('RunResumed', { type: 'RunNeedsOperator', data: { code: 'GOVERNANCE.UNAVAILABLE', stepId: 'a' } });
  });
});

describe('governance deadline: what an operator can do', () => {
  const def = workflow({ a: { worker: 'identity', sideEffect: true }, b: { worker: 'mail', needs: ['a'] } });
  const waiting = play([], startRun(def));
  const overdue = play(waiting, fireTimer(timerIdOf(waiting, 'governance_timeout', 'a'), at(MINUTE)));

  it('retry asks governance again with a new deadline, leaves needs_operator, and dispatches nothing', () => {
    const retried = given(overdue)
      .when(retryStep('a', { actor: 'ops:ada', ...at(2 * MINUTE) }))
      .then(
        { type: 'OperatorRetried', data: { stepId: 'a', phase: 'execute', by: 'ops:ada' } },
        { type: 'RunResumed', data: { by: 'ops:ada' } },
        { type: 'GovernanceCheckRequested', data: { stepId: 'a', timeoutAt: T0 + 3 * MINUTE } },
      );
    expect(retried.state).toMatchObject({
      status: 'running',
      steps: { a: { status: 'waiting_governance', escalated: false } },
    });
    expect(dispatches(retried.produced)).toEqual([]);
    // The new request has its own deadline; asking again before it passes is refused
    given(retried.events)
      .when(retryStep('a', at(2 * MINUTE + 1)))
      .thenThrows('STEP.NOT_RETRYABLE_NOW');
    given(retried.events)
      .when(fireTimer(timerIdOf(retried.events, 'governance_timeout', 'a'), at(3 * MINUTE)))
      .thenIncludes({ type: 'RunNeedsOperator', data: { code: 'GOVERNANCE.UNAVAILABLE' } });
  });

  it('retry before the deadline, or with an edited input governance has not seen, is refused', () => {
    const early = given(waiting).when(retryStep('a')).thenThrows('STEP.NOT_RETRYABLE_NOW');
    expect(early.message).toContain(new Date(T0 + MINUTE).toISOString());
    const edited = given(overdue)
      .when(retryStep('a', { input: { email: 'eve@example.com' } }))
      .thenThrows('STEP.NOT_RETRYABLE_NOW');
    expect(edited.details).toMatchObject({ field: 'input' });
  });

  it('retry keeps an input an earlier operator retry edited, which governance has not ruled on yet', () => {
    const escalating = workflow(
      { a: { worker: 'identity', sideEffect: true, retry: { maxAttempts: 1 } } },
      { onFailure: 'escalate' },
    );
    const failed = play(
      [],
      startRun(escalating, { email: 'ada@example.com' }),
      governance('a', 'allow'),
      stepFailed('a', at(10)),
    );
    const edited = play(failed, retryStep('a', { input: { email: 'eve@example.com' }, ...at(20) }));
    const late = play(edited, fireTimer(timerIdOf(edited, 'governance_timeout', 'a'), at(20 + MINUTE)));
    given(late)
      .when(retryStep('a', at(2 * MINUTE)))
      .thenIncludes({ type: 'GovernanceCheckRequested', data: { stepId: 'a', input: { email: 'eve@example.com' } } });
    given(play(late, retryStep('a', at(2 * MINUTE))))
      .when(governance('a', 'allow', at(3 * MINUTE)))
      .thenIncludes({ type: 'StepDispatched', data: { stepId: 'a', attempt: 2, input: { email: 'eve@example.com' } } });
  });

  it('skip with an output resumes the run, drops the deadline, and a late ruling changes nothing', () => {
    const skipped = given(overdue)
      .when(skipStep('a', { id: 42 }, at(2 * MINUTE)))
      .then({ type: 'StepSkipped', data: { stepId: 'a', kind: 'operator', output: { id: 42 } } }, 'RunResumed', {
        type: 'StepDispatched',
        data: { stepId: 'b' },
      });
    given(skipped.events)
      .when(governance('a', 'allow', at(3 * MINUTE)))
      .thenNothing();
    given(play(waiting, skipStep('a', null)))
      .when(fireTimer(timerIdOf(waiting, 'governance_timeout', 'a'), at(MINUTE)))
      .thenNothing();
  });

  it('reject fails the step (fail closed), before or after the deadline', () => {
    given(overdue)
      .when(reject('a', { actor: 'ops:sec', ...at(2 * MINUTE) }))
      .then(
        { type: 'StepRejected', data: { stepId: 'a', by: 'ops:sec' } },
        { type: 'StepFailed', data: { stepId: 'a', error: { code: 'APPROVAL.REJECTED', retryable: false } } },
        'RunResumed',
        'RunFailed',
      );
    const early = given(waiting)
      .when(reject('a', { actor: 'ops:sec' }))
      .then('StepRejected', 'StepFailed', 'RunFailed');
    expect(early.state.timers).toEqual({});
  });

  it('approve is refused: an operator cannot approve past policy', () => {
    for (const history of [waiting, overdue]) {
      const error = given(history).when(approve('a')).thenThrows('STEP.NOT_AWAITING_APPROVAL');
      expect(error.message).toContain('waiting for governance, not for approval');
      expect(error.details).toEqual({ stepId: 'a', status: 'waiting_governance' });
    }
  });

  it('cancel ends the run and drops the deadline', () => {
    const cancelled = given(waiting).when(cancel()).then('RunCancelled');
    expect(cancelled.state).toMatchObject({ timers: {}, steps: { a: { status: 'cancelled' } } });
  });
});

describe('governance deadline: other reasons to wait for an operator', () => {
  const def = workflow(
    {
      a: { worker: 'identity', sideEffect: true },
      c: { worker: 'w', retry: { maxAttempts: 1 } },
      d: { worker: 'identity', sideEffect: true },
    },
    { onFailure: 'escalate' },
  );
  const waiting = play([], startRun(def));

  it('a ruling does not resume a run that also waits for an operator about something else', () => {
    const failedFirst = play(
      waiting,
      stepFailed('c', at(10)),
      fireTimer(timerIdOf(waiting, 'governance_timeout', 'a'), at(MINUTE)),
    );
    expect(stateOf(failedFirst).attention).toMatchObject({ stepId: 'c' });
    const ruled = given(failedFirst)
      .when(governance('a', 'allow', at(2 * MINUTE)))
      .then('GovernanceDecided');
    expect(ruled.state.status).toBe('needs_operator');
    // and once the operator deals with c, the allowed step goes out
    given(ruled.events)
      .when(skipStep('c', null, at(3 * MINUTE)))
      .thenIncludes('RunResumed', { type: 'StepDispatched', data: { stepId: 'a' } });
  });

  it('an overdue wait is not forgotten when an operator resolves something else first', () => {
    const both = play(
      waiting,
      stepFailed('c', at(10)),
      fireTimer(timerIdOf(waiting, 'governance_timeout', 'a'), at(MINUTE)),
    );
    given(both)
      .when(skipStep('c', null, at(2 * MINUTE)))
      .then('StepSkipped', 'RunResumed', {
        type: 'RunNeedsOperator',
        data: { code: 'GOVERNANCE.UNAVAILABLE', stepId: 'a' },
      });
  });

  it('with two overdue steps, a ruling on one resumes the run only to wait for the other, and the second ruling lets both go', () => {
    const both = play(
      waiting,
      stepCompleted('c'),
      fireTimer(timerIdOf(waiting, 'governance_timeout', 'a'), at(MINUTE)),
      fireTimer(timerIdOf(waiting, 'governance_timeout', 'd'), at(MINUTE)),
    );
    expect(stateOf(both).attention).toMatchObject({ code: 'GOVERNANCE.UNAVAILABLE', stepId: 'a' });
    // Like an overdue approval, the overdue wait comes first: nothing is dispatched while an operator is needed
    const one = given(both)
      .when(governance('a', 'allow', at(2 * MINUTE)))
      .then('GovernanceDecided', 'RunResumed', {
        type: 'RunNeedsOperator',
        data: { code: 'GOVERNANCE.UNAVAILABLE', stepId: 'd' },
      });
    const two = given(one.events)
      .when(governance('d', 'allow', at(3 * MINUTE)))
      .thenIncludes('GovernanceDecided', 'RunResumed');
    expect(dispatches(two.produced)).toEqual(['a@1', 'd@1']);
  });
});
