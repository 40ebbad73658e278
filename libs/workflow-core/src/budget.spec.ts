/** Usage and budgets: what a run's agents spend, summed from the reports, and the cap that stops dispatching. */
import { describe, expect, it } from '@jest/globals';
import {
  cancel,
  given,
  ofType,
  play,
  raiseBudget,
  fireTimer,
  startRun,
  stateOf,
  stepCompleted,
  stepFailed,
  T0,
  timerIdOf,
  workflow,
} from './testing/decider-spec.ts';

const llm = (inputTokens: number, outputTokens: number, amount?: number, currency = 'USD') => ({
  model: 'stand-in-1',
  inputTokens,
  outputTokens,
  ...(amount !== undefined ? { cost: { amount, currency } } : {}),
});

describe('usage and budgets', () => {
  // draft → review → publish, one after the other; draft and review call a model.
  const chain = workflow(
    {
      draft: { worker: 'llm' },
      review: { worker: 'llm', needs: ['draft'] },
      publish: { worker: 'cms', needs: ['review'] },
    },
    { budget: { tokens: 1000 } },
  );

  it('records a report’s usage on its event and sums it per step and per run', () => {
    const failed = play([], startRun(chain), stepFailed('draft', { usage: llm(100, 20, 0.01) }));
    const events = play(
      failed,
      fireTimer(timerIdOf(failed, 'retry', 'draft'), { now: T0 + 60_000 }),
      stepCompleted('draft', { attempt: 2, usage: llm(100, 30, 0.02), now: T0 + 61_000 }),
    );
    expect(ofType(events, 'StepAttemptFailed')[0]?.data.usage).toEqual(llm(100, 20, 0.01));
    expect(ofType(events, 'StepCompleted')[0]?.data.usage).toEqual(llm(100, 30, 0.02));
    const s = stateOf(events);
    expect(s.stepUsage['draft']).toEqual({ inputTokens: 200, outputTokens: 50, cost: { USD: 0.03 } });
    expect(s.usage).toEqual({ inputTokens: 200, outputTokens: 50, cost: { USD: 0.03 } });
    expect(s.budget).toEqual({ tokens: 1000 });
  });

  it('stops dispatching when a report passes the budget, and waits for an operator with BUDGET.EXCEEDED', () => {
    const history = play([], startRun(chain), stepCompleted('draft', { usage: llm(400, 200) }));
    const decided = given(history)
      .when(stepCompleted('review', { usage: llm(300, 200) }))
      .then(
        { type: 'StepCompleted', data: { stepId: 'review' } },
        {
          type: 'RunNeedsOperator',
          data: {
            code: 'BUDGET.EXCEEDED',
            message: 'the run used 1100 tokens, over its budget of 1000: raise the budget or cancel the run',
            stepId: null,
          },
        },
      );
    expect(decided.state.status).toBe('needs_operator');
    expect(ofType(decided.events, 'StepDispatched').map((e) => e.data.stepId)).not.toContain('publish');
  });

  it('goes on once an operator raises the budget past what was used, with who and why', () => {
    const stopped = play([], startRun(chain), stepCompleted('draft', { usage: llm(600, 500) }));
    expect(stateOf(stopped).attention?.code).toBe('BUDGET.EXCEEDED');
    given(stopped)
      .when(raiseBudget({ tokens: 5000 }, { actor: 'olga', reason: 'long contract', now: T0 + 5 }))
      .thenIncludes(
        {
          type: 'BudgetRaised',
          data: { budget: { tokens: 5000 }, previous: { tokens: 1000 }, by: 'olga', reason: 'long contract' },
        },
        'RunResumed',
        { type: 'StepDispatched', data: { stepId: 'review' } },
      );
  });

  it('refuses a raise that is still below what was used, and one that sets nothing', () => {
    const stopped = play([], startRun(chain), stepCompleted('draft', { usage: llm(600, 500) }));
    const low = given(stopped).when(raiseBudget({ tokens: 1050 }, { reason: 'a little more' }));
    expect(low.thenThrows('COMMAND.INVALID').message).toMatch(/still exceeded: the run used 1100 tokens/);
    const empty = given(stopped).when(raiseBudget({}, { reason: 'nothing' }));
    expect(empty.thenThrows('COMMAND.INVALID').message).toMatch(/"tokens", "cost" or both/);
  });

  it('caps cost in the budget’s currency, and treats cost in another currency as over (fail closed)', () => {
    const priced = workflow({ draft: { worker: 'llm' }, review: { worker: 'llm', needs: ['draft'] } });
    const budget = { cost: { amount: 0.5, currency: 'USD' } };
    given(play([], startRun(priced, {}, { budget })))
      .when(stepCompleted('draft', { usage: llm(10, 10, 0.49) }))
      .thenIncludes({ type: 'StepDispatched', data: { stepId: 'review' } });
    given(play([], startRun(priced, {}, { budget })))
      .when(stepCompleted('draft', { usage: llm(10, 10, 0.51) }))
      .thenIncludes({ type: 'RunNeedsOperator', data: { code: 'BUDGET.EXCEEDED' } });
    given(play([], startRun(priced, {}, { budget })))
      .when(stepCompleted('draft', { usage: llm(10, 10, 0.01, 'EUR') }))
      .thenIncludes({
        type: 'RunNeedsOperator',
        data: { message: expect.stringContaining('cost in EUR, and the budget is in USD') },
      });
  });

  it('lets a start’s budget override the definition’s, and counts nothing twice for a repeated report', () => {
    const events = play(
      [],
      startRun(chain, {}, { budget: { tokens: 50 } }),
      stepCompleted('draft', { usage: llm(10, 10) }),
      stepCompleted('draft', { usage: llm(10, 10) }),
    );
    expect(stateOf(events).budget).toEqual({ tokens: 50 });
    expect(stateOf(events).usage.inputTokens).toBe(10);
  });

  it('lets an operator cancel a run stopped at its budget', () => {
    const stopped = play([], startRun(chain), stepCompleted('draft', { usage: llm(600, 500) }));
    given(stopped)
      .when(cancel({ reason: 'too costly' }))
      .thenIncludes('RunCancelled');
  });
});
