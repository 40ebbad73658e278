/** Gates before a step runs: approval steps, and governance before side effects (guarantee 6; its deadline is in governance-deadline.spec.ts). */
import { describe, expect, it } from '@jest/globals';
import {
  approve,
  dispatches,
  fireTimer,
  given,
  governance,
  ofType,
  play,
  reject,
  retryStep,
  startRun,
  stateOf,
  stepCompleted,
  stepFailed,
  T0,
  workflow,
} from './testing/decider-spec.ts';

const at = (ms: number) => ({ now: T0 + ms });

describe('approval steps', () => {
  const gated = (gate: Record<string, unknown>) =>
    workflow({
      a: { worker: 'w' },
      gate: { type: 'approval', needs: ['a'], assignees: ['role:finance'], ...gate },
      z: { worker: 'w', needs: ['gate'], input: { approvedBy: '${{ steps.gate.output.by }}' } },
    });
  const waiting = (gate: Record<string, unknown> = {}) =>
    play([], startRun(gated({ timeout: '48h', ...gate })), stepCompleted('a', at(10)));

  it('asks for approval when its join is satisfied, with a deadline', () => {
    given(play([], startRun(gated({ timeout: '48h' }))))
      .when(stepCompleted('a', at(10)))
      .then(
        'StepCompleted',
        { type: 'ApprovalRequested', data: { stepId: 'gate', cause: 'approval_step', assignees: ['role:finance'] } },
        {
          type: 'TimerScheduled',
          data: {
            timer: { id: 'gate:approval:0', kind: 'approval_timeout', stepId: 'gate', dueAt: T0 + 10 + 48 * 3_600_000 },
          },
        },
      );
  });

  it('approve completes the gate, with who approved as its output, and the run goes on', () => {
    const approved = given(waiting())
      .when(approve('gate', { actor: 'ops:fin', reason: 'within budget' }))
      .then(
        { type: 'StepApproved', data: { stepId: 'gate', by: 'ops:fin', reason: 'within budget' } },
        {
          type: 'StepCompleted',
          data: { stepId: 'gate', output: { approved: true, by: 'ops:fin', reason: 'within budget' } },
        },
        { type: 'StepDispatched', data: { stepId: 'z', input: { approvedBy: 'ops:fin' } } },
      );
    expect(Object.values(approved.state.timers).map((t) => t.kind)).toEqual(['attempt_timeout']);
    given(approved.events).when(approve('gate')).thenThrows('STEP.ALREADY_TERMINAL');
  });

  it('reject fails the gate, and the run with it', () => {
    given(waiting())
      .when(reject('gate', { actor: 'ops:fin', reason: 'over budget' }))
      .then(
        { type: 'StepRejected', data: { stepId: 'gate', by: 'ops:fin', reason: 'over budget' } },
        { type: 'StepFailed', data: { stepId: 'gate', error: { code: 'APPROVAL.REJECTED', retryable: false } } },
        { type: 'RunFailed', data: { stepId: 'gate' } },
      );
  });

  it('a timed-out approval with onTimeout: escalate waits for an operator, whose approval resumes the run', () => {
    const due = T0 + 10 + 48 * 3_600_000;
    const escalated = given(waiting())
      .when(fireTimer('gate:approval:0', { now: due }))
      .then('TimerFired', { type: 'RunNeedsOperator', data: { code: 'APPROVAL.TIMED_OUT', stepId: 'gate' } });
    given(escalated.events)
      .when(approve('gate', { now: due + 1 }))
      .then('StepApproved', 'StepCompleted', 'RunResumed', { type: 'StepDispatched', data: { stepId: 'z' } });
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
    expect(stateOf(escalated)).toMatchObject({
      status: 'needs_operator',
      attention: { code: 'APPROVAL.TIMED_OUT', stepId: 'g1' },
    });
    // When g2 is approved, Then g2 completes but the run still waits for someone to deal with g1
    const approved = given(escalated)
      .when(approve('g2', at(3_700_000)))
      .thenIncludes('StepApproved', { type: 'StepCompleted', data: { stepId: 'g2' } });
    expect(approved.state).toMatchObject({
      status: 'needs_operator',
      attention: { code: 'APPROVAL.TIMED_OUT', stepId: 'g1' },
    });
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
    const both = play(
      [],
      startRun(two),
      stepCompleted('a'),
      fireTimer('g1:approval:0', at(3_600_000)),
      fireTimer('g2:approval:0', at(7_200_000)),
    );
    // When the operator approves g2, Then the run still waits for an operator about g1, which has no deadline left
    const approved = given(both)
      .when(approve('g2', at(7_300_000)))
      .thenIncludes('StepApproved', { type: 'StepCompleted', data: { stepId: 'g2' } });
    expect(approved.state).toMatchObject({
      status: 'needs_operator',
      attention: { code: 'APPROVAL.TIMED_OUT', stepId: 'g1' },
    });
  });

  it('a timed-out approval with onTimeout: fail fails the gate', () => {
    given(waiting({ onTimeout: 'fail' }))
      .when(fireTimer('gate:approval:0', at(10 + 48 * 3_600_000)))
      .then(
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
    given()
      .when(startRun(def, { email: 'ada@example.com' }))
      .then('RunStarted', {
        type: 'GovernanceCheckRequested',
        data: {
          stepId: 'a',
          worker: 'identity',
          action: 'create-account',
          input: { email: 'ada@example.com' },
          attempt: 1,
          timeoutAt: T0 + 60_000,
        },
      });
    expect(stateOf(checking).steps.a?.status).toBe('waiting_governance');
  });

  it('allow dispatches the step', () => {
    given(checking)
      .when(governance('a', 'allow', { policyId: 'baseline-allow' }))
      .then(
        { type: 'GovernanceDecided', data: { stepId: 'a', outcome: 'allow', policyId: 'baseline-allow' } },
        { type: 'StepDispatched', data: { stepId: 'a', attempt: 1, input: { email: 'ada@example.com' } } },
      );
  });

  it('deny fails the step for good, naming the policy', () => {
    const denied = given(checking)
      .when(governance('a', 'deny', { policyId: 'blocked-domain', reason: 'blocked domain' }))
      .then(
        { type: 'GovernanceDecided', data: { outcome: 'deny', policyId: 'blocked-domain' } },
        {
          type: 'StepFailed',
          data: {
            stepId: 'a',
            error: {
              code: 'GOVERNANCE.DENIED',
              retryable: false,
              details: { policyId: 'blocked-domain', reason: 'blocked domain' },
            },
          },
        },
        { type: 'RunFailed', data: { stepId: 'a', error: { code: 'GOVERNANCE.DENIED' } } },
      );
    expect(ofType(denied.produced, 'StepFailed')[0]?.data.error.message).toContain('blocked-domain');
  });

  it('an operator retry with edited input is checked again before it is dispatched', () => {
    // Given governance allowed a@example.com, the attempt failed and the run escalated
    const escalating = workflow(
      {
        a: { worker: 'identity', sideEffect: true, retry: { maxAttempts: 1 }, input: { email: '${{ input.email }}' } },
      },
      { onFailure: 'escalate' },
    );
    const failed = play(
      [],
      startRun(escalating, { email: 'ada@example.com' }),
      governance('a', 'allow'),
      stepFailed('a'),
    );
    // When the operator retries it for another address, Then governance sees the new input before any worker does
    const retried = given(failed)
      .when(retryStep('a', { input: { email: 'eve@blocked.example' } }))
      .thenIncludes('OperatorRetried', {
        type: 'GovernanceCheckRequested',
        data: { stepId: 'a', input: { email: 'eve@blocked.example' } },
      });
    expect(dispatches(retried.produced)).toEqual([]);
    // and a retry with the input governance already allowed goes straight to the worker
    given(failed)
      .when(retryStep('a'))
      .thenIncludes({ type: 'StepDispatched', data: { stepId: 'a', attempt: 2, input: { email: 'ada@example.com' } } });
  });

  it('require_approval opens a gate; approving it dispatches the step (and does not complete it)', () => {
    const gate = given(checking)
      .when(governance('a', 'require_approval', { policyId: 'contractor-needs-approval' }))
      .then(
        { type: 'GovernanceDecided', data: { outcome: 'require_approval' } },
        { type: 'ApprovalRequested', data: { stepId: 'a', cause: 'governance' } },
      );
    given(gate.events)
      .when(approve('a', { actor: 'ops:sec' }))
      .then(
        { type: 'StepApproved', data: { stepId: 'a', by: 'ops:sec' } },
        { type: 'StepDispatched', data: { stepId: 'a', attempt: 1 } },
      );
    given(gate.events)
      .when(reject('a'))
      .then('StepRejected', { type: 'StepFailed', data: { error: { code: 'APPROVAL.REJECTED' } } }, 'RunFailed');
  });
});
