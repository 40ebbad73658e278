/**
 * Which steps governance rules on. A definition may flag a step `sideEffect`, but it cannot opt one out: when the
 * runtime has governance configured it starts every run with `governEveryStep`, and then every task step is checked
 * (security: a producer re-defining a payment without `sideEffect` must not get past the policies).
 */
import { describe, expect, it } from '@jest/globals';
import { inputDigest } from './digest.ts';
import {
  dispatches,
  given,
  governance,
  play,
  retryStep,
  startRun,
  stateOf,
  stepFailed,
  T0,
  workflow,
} from './testing/decider-spec.ts';
import { stepAt } from './state.ts';

const unflagged = workflow({
  pay: { worker: 'payments', action: 'charge', input: { amount: '${{ input.amount }}' } },
  gate: { type: 'approval', needs: ['pay'] },
});

describe('governance on every step', () => {
  it('asks governance about a task step the definition does not flag, when the run governs every step', () => {
    given()
      .when(startRun(unflagged, { amount: 999_999 }, { governEveryStep: true }))
      .then('RunStarted', {
        type: 'GovernanceCheckRequested',
        data: {
          stepId: 'pay',
          worker: 'payments',
          action: 'charge',
          input: { amount: 999_999 },
          timeoutAt: T0 + 60_000,
        },
      });
  });

  it('a deny stops the unflagged step before anything is dispatched', () => {
    const checking = play([], startRun(unflagged, { amount: 999_999 }, { governEveryStep: true }));
    const denied = given(checking)
      .when(governance('pay', 'deny', { policyId: 'payments-over-limit' }))
      .then(
        { type: 'GovernanceDecided', data: { stepId: 'pay', outcome: 'deny' } },
        { type: 'StepFailed', data: { stepId: 'pay', error: { code: 'GOVERNANCE.DENIED' } } },
        'RunFailed',
      );
    expect(dispatches(denied.events)).toEqual([]);
  });

  it('an approval step is a gate of its own, not a governance request', () => {
    const def = workflow({ gate: { type: 'approval' } });
    given()
      .when(startRun(def, {}, { governEveryStep: true }))
      .then({ type: 'RunStarted' }, { type: 'ApprovalRequested', data: { stepId: 'gate' } });
  });

  it('an operator retry with an edited input is checked again, as for a flagged side effect', () => {
    const escalating = workflow(
      { pay: { worker: 'payments', action: 'charge', input: { amount: '${{ input.amount }}' } } },
      { onFailure: 'escalate' },
    );
    const checking = play(
      [],
      startRun(escalating, { amount: 5 }, { governEveryStep: true }),
      governance('pay', 'allow'),
    );
    const failed = play(
      checking,
      stepFailed('pay', { attempt: 1, error: { code: 'CARD.DECLINED', retryable: false } }),
    );
    given(failed)
      .when(retryStep('pay', { input: { amount: 999_999 } }))
      .then('OperatorRetried', 'RunResumed', {
        type: 'GovernanceCheckRequested',
        data: { stepId: 'pay', input: { amount: 999_999 } },
      });
  });

  it('without it (no governance configured), an unflagged step is dispatched at once, as before', () => {
    const started = play([], startRun(unflagged, { amount: 1 }));
    expect(dispatches(started)).toEqual(['pay@1']);
    expect(stateOf(started).governEveryStep).toBe(false);
  });
});

describe('the run records whose it is', () => {
  it('a tenant given at start is on RunStarted and in the state', () => {
    const started = play([], startRun(unflagged, { amount: 1 }, { tenant: 'acme' }));
    expect(started[0]).toMatchObject({ type: 'RunStarted', data: { tenant: 'acme' } });
    expect(stateOf(started).tenant).toBe('acme');
  });

  it('a run started without one belongs to the default tenant, and its event stays as it was', () => {
    const started = play([], startRun(unflagged, { amount: 1 }));
    expect(started[0]?.data).not.toHaveProperty('tenant');
    expect(stateOf(started).tenant).toBe('default');
  });
});

describe('a decision about another input than the one asked', () => {
  it('is ignored: the step waits for the decision about what it asked (guarded in the decider, not by a re-read)', () => {
    const checking = play([], startRun(unflagged, { amount: 5 }, { governEveryStep: true }));
    given(checking)
      .when(governance('pay', 'allow', { inputDigest: 'the digest of some older input' }))
      .thenNothing();
    expect(stepAt(stateOf(checking), 'pay', 'waiting_governance')?.askedDigest).toMatch(/^[0-9a-f]{64}$/);
    given(checking)
      .when(governance('pay', 'allow'))
      .thenIncludes({ type: 'GovernanceDecided', data: { outcome: 'allow' } }, 'StepDispatched');
  });

  it('carries the digest of the input asked about on GovernanceCheckRequested, the same one the runtime sends', () => {
    const [, asked] = play([], startRun(unflagged, { amount: 5, vendor: 'v' }, { governEveryStep: true }));
    expect(asked).toMatchObject({
      type: 'GovernanceCheckRequested',
      data: { input: { amount: 5 }, inputDigest: inputDigest({ amount: 5 }) },
    });
  });
});
