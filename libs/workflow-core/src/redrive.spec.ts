/** Re-drive: an operator re-opens an ended run at a step, in the same stream (docs/semantics.md#re-drive). */
import { describe, expect, it } from '@jest/globals';
import {
  cancel,
  given,
  governance,
  ofType,
  play,
  redrive,
  reject,
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
const terminal = { error: { retryable: false } };
const undo = (action: string) => ({ action, retry: { maxAttempts: 1 } });

describe('re-drive', () => {
  const chain = workflow(
    {
      a: { worker: 'wa', compensate: undo('undo-a') },
      b: { worker: 'wb', needs: ['a'], compensate: undo('undo-b') },
      c: { worker: 'wc', needs: ['b'], retry: { maxAttempts: 1 } },
    },
    { onFailure: 'compensate' },
  );
  const compensated = play(
    [],
    startRun(chain, { id: 1 }),
    stepCompleted('a', { output: { made: 'a' } }),
    stepCompleted('b', { output: { made: 'b' } }),
    stepFailed('c', { ...terminal, ...at(10) }),
    stepCompleted('b', { phase: 'compensate', ...at(20) }),
    stepCompleted('a', { phase: 'compensate', ...at(30) }),
  );

  it('re-opens a compensated run at a step with a new input: a reset event with who, why and what it replaced', () => {
    expect(stateOf(compensated).status).toBe('compensated');
    const cInput = ofType(compensated, 'StepDispatched').find((e) => e.data.stepId === 'c')?.data.input;
    const decided = given(compensated)
      .when(redrive('c', { input: { fixed: true }, actor: 'olga', reason: 'vendor fixed', ...at(100) }))
      .then(
        {
          type: 'RunReset',
          data: {
            fromStepId: 'c',
            steps: ['c'],
            input: { fixed: true },
            replaced: { status: 'compensated', failure: null, input: cInput },
            stillUndone: ['a', 'b'],
            by: 'olga',
            reason: 'vendor fixed',
            at: T0 + 100,
          },
        },
        {
          type: 'StepDispatched',
          data: { stepId: 'c', attempt: 2, input: { fixed: true }, idempotencyKey: `${RUN_ID}/c/2` },
        },
      );
    expect(decided.state).toMatchObject({ status: 'running', phase: 'execute', failure: null, attention: null });
    // Nothing earlier is rewritten: the history is the old one with the new events after it.
    expect(decided.events.slice(0, compensated.length)).toEqual(compensated);
    const done = given(decided.events).when(stepCompleted('c', { attempt: 2, ...at(200) }));
    done.thenIncludes({ type: 'StepCompleted', data: { stepId: 'c' } }, 'RunCompleted');
  });

  it('runs everything downstream again, keeps what is upstream, and undoes nothing twice', () => {
    const again = play(
      compensated,
      redrive('b', { actor: 'olga', reason: 'retry the tail', ...at(100) }),
      stepCompleted('b', { attempt: 2, output: { made: 'b2' }, ...at(110) }),
    );
    const reset = ofType(again, 'RunReset')[0]?.data;
    expect(reset).toMatchObject({ fromStepId: 'b', steps: ['b', 'c'], stillUndone: ['a'] });
    expect(stateOf(again).steps['a']).toMatchObject({ status: 'completed', output: { made: 'a' } });
    // c fails again: b, re-driven and completed, is undone again with a new attempt number; a, undone before, is not.
    given(again)
      .when(stepFailed('c', { attempt: 2, ...terminal, ...at(120) }))
      .thenIncludes('CompensationStarted', {
        type: 'StepDispatched',
        data: { stepId: 'b', phase: 'compensate', attempt: 2, idempotencyKey: `${RUN_ID}/b/compensate/2` },
      });
    const undoneAgain = play(
      again,
      stepFailed('c', { attempt: 2, ...terminal, ...at(120) }),
      stepCompleted('b', { phase: 'compensate', attempt: 2, ...at(130) }),
    );
    expect(stateOf(undoneAgain).status).toBe('compensated');
    expect(
      ofType(undoneAgain, 'StepDispatched').filter((e) => e.data.stepId === 'a' && e.data.phase === 'compensate'),
    ).toHaveLength(1);
  });

  it('asks governance again before a side effect runs again', () => {
    const governed = workflow({ pay: { worker: 'bank', sideEffect: true, retry: { maxAttempts: 1 } } });
    const failed = play([], startRun(governed, {}), governance('pay', 'allow'), stepFailed('pay', terminal));
    expect(stateOf(failed).status).toBe('failed');
    given(failed)
      .when(redrive('pay', { reason: 'bank is back' }))
      .thenIncludes('RunReset', { type: 'GovernanceCheckRequested', data: { stepId: 'pay' } });
  });

  it('re-opens a cancelled run, running again the steps the cancel cut short', () => {
    const cancelled = play(
      [],
      startRun(chain, {}),
      stepCompleted('a'),
      stepStarted('b'),
      cancel({ actor: 'olga', reason: 'oops' }),
    );
    expect(stateOf(cancelled).status).toBe('cancelled');
    given(cancelled)
      .when(redrive('c', { reason: 'cancelled by mistake' }))
      .thenIncludes(
        { type: 'RunReset', data: { steps: ['b', 'c'], replaced: { status: 'cancelled' } } },
        { type: 'StepDispatched', data: { stepId: 'b', attempt: 2 } },
      );
  });

  it('refuses what makes no sense, with a code that says why', () => {
    const running = play([], startRun(chain, {}));
    given(running)
      .when(redrive('a', { reason: 'x' }))
      .thenThrows('RUN.NOT_ENDED');
    const completed = play(running, stepCompleted('a'), stepCompleted('b'), stepCompleted('c'));
    given(completed)
      .when(redrive('a', { reason: 'x' }))
      .thenThrows('RUN.NOT_REDRIVABLE');
    given(compensated)
      .when(redrive('nope', { reason: 'x' }))
      .thenThrows('STEP.NOT_FOUND');
    const parallel = workflow(
      { x: { worker: 'w', retry: { maxAttempts: 1 } }, y: { worker: 'w' } },
      { onFailure: 'fail' },
    );
    const failed = play([], startRun(parallel, {}), stepFailed('x', terminal));
    const kept = given(failed)
      .when(redrive('y', { reason: 'x' }))
      .thenThrows('RUN.NOT_REDRIVABLE');
    expect(kept.message).toContain('keeps the failure of "x"');
    const gated = workflow({ gate: { type: 'approval' } }, { onFailure: 'fail' });
    const rejected = play([], startRun(gated, {}), reject('gate'));
    expect(stateOf(rejected).status).toBe('failed');
    given(rejected)
      .when(redrive('gate', { input: 1, reason: 'x' }))
      .thenThrows('COMMAND.INVALID');
    given(rejected)
      .when(redrive('gate', { reason: 'ask again' }))
      .thenIncludes('RunReset', 'ApprovalRequested');
  });
});
