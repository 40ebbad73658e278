/**
 * Standing governance rulings in the decider (ADRs 41, 43): when its caller holds an allow that stands for every run
 * of a step, the decider records it as the step's whole check on the `StepDispatched` it allows, in place of a request
 * and its answer: one event where there were three. Without one, governance is asked as before.
 */
import { describe, expect, it } from '@jest/globals';
import { inputDigest } from './digest.ts';
import { effectsOf } from './effects.ts';
import type { WorkflowEvent } from './messages.ts';
import type { StandingLookup } from './standing.ts';
import {
  given,
  governance,
  play,
  retryStep,
  startRun,
  stateOf,
  stepCompleted,
  stepFailed,
  T0,
  workflow,
} from './testing/decider-spec.ts';
import { stepAt } from './state.ts';

const shop = workflow({
  pay: { worker: 'payments', action: 'charge', input: { amount: '${{ input.amount }}' } },
  ship: { worker: 'shipping', needs: ['pay'] },
});

/** A holder with a ruling on `pay` only, that notes what it was asked. */
function holder(): { lookup: StandingLookup; asked: [string, unknown][] } {
  const asked: [string, unknown][] = [];
  const lookup: StandingLookup = (_s, stepId, input) => {
    asked.push([stepId, input]);
    return stepId === 'pay' ? { policyId: 'baseline', reason: 'allowed by the baseline', decidedBy: 'g-1' } : null;
  };
  return { lookup, asked };
}

describe('a standing ruling in the decider', () => {
  it('records the allow on the dispatch as the whole check, in the same decision, asking nothing', () => {
    const { lookup, asked } = holder();
    const decided = given()
      .when(startRun(shop, { amount: 5 }, { governEveryStep: true }), { standing: lookup })
      .then('RunStarted', {
        type: 'StepDispatched',
        data: {
          stepId: 'pay',
          attempt: 1,
          input: { amount: 5 },
          ruling: {
            policyId: 'baseline',
            reason: 'allowed by the baseline',
            decidedBy: 'g-1',
            inputDigest: inputDigest({ amount: 5 }),
          },
          at: T0,
        },
      });
    // The holder saw the input the request would have carried: the rendered one.
    expect(asked).toEqual([['pay', { amount: 5 }]]);
    expect(decided.produced.flatMap(effectsOf).map((e) => e.type)).not.toContain('AskGovernance');
    expect(decided.produced.flatMap(effectsOf).map((e) => e.type)).toContain('SendStep');
    expect(stepAt(decided.state, 'pay', 'running')?.governance).toEqual({
      outcome: 'allow',
      policyId: 'baseline',
      reason: 'allowed by the baseline',
    });
  });

  it('folds a ruled dispatch to the state the allow and the dispatch fold to as two events (ADR 41 histories)', () => {
    const { lookup } = holder();
    const ruled = given()
      .when(startRun(shop, { amount: 5 }, { governEveryStep: true }), { standing: lookup })
      .thenIncludes('RunStarted', 'StepDispatched');
    const [runStarted, dispatched] = ruled.produced;
    if (runStarted === undefined || dispatched?.type !== 'StepDispatched' || dispatched.data.ruling === undefined)
      throw new Error('no ruled dispatch');
    const { ruling, ...data } = dispatched.data;
    const decidedAlone: WorkflowEvent = {
      type: 'GovernanceDecided',
      data: {
        stepId: 'pay',
        outcome: 'allow',
        policyId: ruling.policyId,
        reason: ruling.reason,
        standing: { decidedBy: ruling.decidedBy, attempt: 1, inputDigest: ruling.inputDigest },
        at: T0,
      },
    };
    const before43 = stateOf([runStarted, decidedAlone, { type: 'StepDispatched', data }]);
    // The same run, one event fewer: only the version (the count of events folded) tells them apart.
    expect({ ...stateOf(ruled.produced), version: 0 }).toEqual({ ...before43, version: 0 });
    expect(stateOf(ruled.produced).version).toBe(before43.version - 1);
  });

  it('records the ruling as a GovernanceDecided of its own when the attempt fails instead of going out', () => {
    const { lookup } = holder();
    const locked = workflow({
      pay: { worker: 'payments', input: { amount: '${{ input.amount }}' }, locks: [{ name: 'x${{ input.name }}' }] },
    });
    given()
      .when(startRun(locked, { amount: 5, name: 'y'.repeat(1_000) }, { governEveryStep: true }), { standing: lookup })
      .then(
        'RunStarted',
        { type: 'GovernanceDecided', data: { stepId: 'pay', outcome: 'allow', standing: { attempt: 1 } } },
        { type: 'StepFailed', data: { stepId: 'pay', error: { code: 'EXPRESSION.ERROR' } } },
        'RunFailed',
      );
  });

  it('asks governance about a step it holds no ruling on', () => {
    const { lookup } = holder();
    const paid = play([], startRun(shop, { amount: 5 }, { governEveryStep: true }), governance('pay', 'allow'));
    given(paid)
      .when(stepCompleted('pay'), { standing: lookup })
      .then('StepCompleted', { type: 'GovernanceCheckRequested', data: { stepId: 'ship', attempt: 1 } });
  });

  it('is not consulted about a step governance does not rule on', () => {
    const { lookup, asked } = holder();
    given()
      .when(startRun(shop, { amount: 5 }), { standing: lookup })
      .then('RunStarted', { type: 'StepDispatched', data: { stepId: 'pay' } });
    expect(asked).toEqual([]);
  });

  it('without a holder, the request is recorded and governance asked, as before', () => {
    const decided = given()
      .when(startRun(shop, { amount: 5 }, { governEveryStep: true }))
      .then('RunStarted', { type: 'GovernanceCheckRequested', data: { stepId: 'pay', attempt: 1 } });
    expect(decided.produced.flatMap(effectsOf).map((e) => e.type)).toContain('AskGovernance');
  });

  it("covers an operator's retry with an edited input too: the holder is shown the new input", () => {
    const { lookup, asked } = holder();
    const escalating = workflow(
      { pay: { worker: 'payments', action: 'charge', input: { amount: '${{ input.amount }}' } } },
      { onFailure: 'escalate' },
    );
    const failed = play(
      [],
      startRun(escalating, { amount: 5 }, { governEveryStep: true }),
      governance('pay', 'allow'),
      stepFailed('pay', { error: { retryable: false } }),
    );
    given(failed)
      .when(retryStep('pay', { input: { amount: 7 } }), { standing: lookup })
      .thenIncludes({
        type: 'StepDispatched',
        data: { stepId: 'pay', attempt: 2, input: { amount: 7 }, ruling: { inputDigest: inputDigest({ amount: 7 }) } },
      });
    expect(asked).toEqual([['pay', { amount: 7 }]]);
  });
});
