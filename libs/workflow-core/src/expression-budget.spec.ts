/** A step whose input mapping or condition goes over the expression budget fails with its own code. */
import { describe, expect, it } from '@jest/globals';
import { given, ofType, play, retryStep, startRun, workflow } from './testing/decider-spec.ts';

const million = { items: Array.from({ length: 1_000_000 }, (_, i) => i) };

describe('expression budgets', () => {
  it('fails the step with EXPRESSION.BUDGET_EXCEEDED when its input mapping maps a million elements', () => {
    const def = workflow({ a: { worker: 'w', input: { doubled: '${{ input.items.map(x, x * 2) }}' } } });
    const { produced } = given()
      .when(startRun(def, million))
      .thenIncludes('RunStarted', {
        type: 'StepFailed',
        data: { stepId: 'a', error: { code: 'EXPRESSION.BUDGET_EXCEEDED', retryable: false } },
      });
    const [failed] = ofType(produced, 'StepFailed');
    expect(failed?.data.error.message).toMatch(/^input: the expression .* exceeded its budget of \d+ operations$/);
    expect(ofType(produced, 'StepDispatched')).toHaveLength(0);
  });

  it('fails the step the same way when its condition is over budget', () => {
    const def = workflow({ a: { worker: 'w', when: '${{ input.items.exists(x, x < 0) }}' } });
    given()
      .when(startRun(def, million))
      .thenIncludes({
        type: 'StepFailed',
        data: { stepId: 'a', error: { code: 'EXPRESSION.BUDGET_EXCEEDED', retryable: false } },
      });
  });

  it('keeps EXPRESSION.ERROR for an expression that is wrong rather than expensive', () => {
    const def = workflow({ a: { worker: 'w', input: { n: '${{ input.missing.field }}' } } });
    given()
      .when(startRun(def, {}))
      .thenIncludes({ type: 'StepFailed', data: { stepId: 'a', error: { code: 'EXPRESSION.ERROR' } } });
  });

  it('maps a small list within the budget, so the same mapping dispatches', () => {
    const def = workflow({ a: { worker: 'w', input: { doubled: '${{ input.items.map(x, x * 2) }}' } } });
    given()
      .when(startRun(def, { items: [1, 2, 3] }))
      .thenIncludes({ type: 'StepDispatched', data: { stepId: 'a', input: { doubled: [2, 4, 6] } } });
  });

  describe('an operator of an escalated run', () => {
    const def = workflow(
      { a: { worker: 'w', input: { doubled: '${{ input.items.map(x, x * 2) }}' } } },
      { onFailure: 'escalate' },
    );
    const escalated = play([], startRun(def, million));

    it('may retry the step with an edited input', () => {
      given(escalated)
        .when(retryStep('a', { input: { doubled: [] } }))
        .thenIncludes({ type: 'StepDispatched', data: { stepId: 'a', input: { doubled: [] } } });
    });

    it('may not retry it unchanged: the same mapping would go over the same budget', () => {
      given(escalated).when(retryStep('a')).thenThrows('STEP.NOT_RETRYABLE_NOW');
    });
  });
});
