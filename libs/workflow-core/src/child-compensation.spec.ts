/** Workflow steps (`type: workflow`): compensating a completed child, and the child run's side of the link. */
import { describe, expect, it } from '@jest/globals';
import {
  cancel,
  childOutcome,
  compensate,
  compensateForParent,
  given,
  play,
  RUN_ID,
  startRun,
  stateOf,
  stepCompleted,
  stepFailed,
  workflow,
} from './testing/decider-spec.ts';
import { at, CHILD, input, waiting } from './testing/child-fixtures.ts';
import { MAX_CHILD_DEPTH } from './child-runs.ts';
import { decide } from './decide.ts';
import { effectsOf } from './effects.ts';
import { fold } from './index.ts';
import { outstanding } from './recovery.ts';

describe("a workflow step's compensation", () => {
  const completed = () => play(waiting(), childOutcome('provision', 'completed', { ...at(60), output: { create: 1 } }));

  it('compensates the child run before the steps it needed, and completes when the child is compensated', () => {
    const decided = given(completed())
      .when(stepFailed('notify', { ...at(70), error: { retryable: false } }))
      .then('StepAttemptFailed', 'StepFailed', 'CompensationStarted', {
        type: 'ChildCompensationRequested',
        data: { stepId: 'provision', childRunId: CHILD, attempt: 1 },
      });
    expect(decided.produced.flatMap(effectsOf)).toContainEqual({
      type: 'CompensateChild',
      data: { stepId: 'provision', childRunId: CHILD },
    });
    expect(outstanding(decided.events).children).toEqual([expect.objectContaining({ type: 'CompensateChild' })]);
    given(decided.events)
      .when(childOutcome('provision', 'compensated', at(80)))
      .then(
        { type: 'ChildRunEnded', data: { phase: 'compensate', status: 'compensated' } },
        { type: 'CompensationCompleted', data: { stepId: 'provision' } },
        { type: 'StepDispatched', data: { stepId: 'reserve', phase: 'compensate' } },
      );
  });

  it("is compensated when an operator compensates the parent (the child's step is undoable by itself)", () => {
    const def = workflow({
      provision: { type: 'workflow', workflow: { id: 'provision-user' } },
      sign: { type: 'approval', needs: ['provision'] },
    });
    const gated = play([], startRun(def, input), childOutcome('provision', 'completed', { output: {} }));
    given(gated)
      .when(compensate(at(5)))
      .then('CompensationStarted', {
        type: 'ChildCompensationRequested',
        data: { stepId: 'provision', childRunId: CHILD },
      });
  });

  it("ignores the child's report once the parent has ended (cancelled while its child compensated)", () => {
    const asked = play(completed(), stepFailed('notify', { ...at(70), error: { retryable: false } }));
    const cancelled = play(asked, cancel(at(75)));
    given(cancelled)
      .when(childOutcome('provision', 'compensated', at(80)))
      .thenIgnores('run_ended');
  });

  it('tells an operator when the child could not compensate', () => {
    const asked = play(completed(), stepFailed('notify', { ...at(70), error: { retryable: false } }));
    const error = { code: 'COMPENSATION.FAILED', message: 'undo failed', retryable: false };
    given(asked)
      .when(childOutcome('provision', 'failed', { ...at(80), error }))
      .then(
        { type: 'ChildRunEnded', data: { phase: 'compensate', status: 'failed' } },
        { type: 'CompensationFailed', data: { stepId: 'provision', error: { code: 'CHILD.FAILED' } } },
        { type: 'RunNeedsOperator', data: { code: 'COMPENSATION.FAILED', stepId: 'provision' } },
      );
  });
});

describe('a child run', () => {
  const link = { runId: 'parent-1', stepId: 'provision', depth: 1, closePolicy: 'cancel' as const };
  const childDef = workflow({ create: { worker: 'identity', compensate: { action: 'delete' } } });

  it('records its parent, and on ending tells it (output: its steps by id)', () => {
    const run = play([], startRun(childDef, {}, { parent: link }));
    expect(stateOf(run).parent).toEqual(link);
    const state = fold(run);
    const decision = decide(
      {
        type: 'RecordStepCompleted',
        data: { stepId: 'create', attempt: 1, phase: 'execute', output: { id: 7 } },
        metadata: at(5),
      },
      state,
    );
    expect(decision.effects).toContainEqual({
      type: 'ReportToParent',
      data: {
        parentRunId: 'parent-1',
        stepId: 'provision',
        childRunId: RUN_ID,
        status: 'completed',
        output: { create: { id: 7 } },
      },
    });
  });

  it('tells its parent when it is cancelled', () => {
    const run = play([], startRun(childDef, {}, { parent: link }));
    const decision = decide(cancel(at(5)), fold(run));
    expect(decision.effects).toContainEqual({
      type: 'ReportToParent',
      data: expect.objectContaining({ parentRunId: 'parent-1', status: 'cancelled' }),
    });
  });

  it('compensates for its parent once completed, and is compensated at once when it has nothing to undo', () => {
    const done = play([], startRun(childDef, {}, { parent: link }), stepCompleted('create', { output: { id: 7 } }));
    given(done)
      .when(compensateForParent(at(9)))
      .then('CompensationStarted', { type: 'StepDispatched', data: { stepId: 'create', phase: 'compensate' } });
    const plain = workflow({ read: { worker: 'identity' } });
    const nothing = play([], startRun(plain, {}, { parent: link }), stepCompleted('read'));
    const decision = decide(compensateForParent(at(9)), fold(nothing));
    expect(decision.events.map((e) => e.type)).toEqual(['CompensationStarted', 'RunCompensated']);
    expect(decision.effects).toContainEqual({
      type: 'ReportToParent',
      data: expect.objectContaining({ status: 'compensated' }),
    });
  });

  it('refuses to compensate for a parent it does not have, or before it has completed', () => {
    const top = play([], startRun(childDef, {}), stepCompleted('create'));
    given(top).when(compensateForParent()).thenThrows('COMMAND.INVALID');
    const going = play([], startRun(childDef, {}, { parent: link }));
    given(going).when(compensateForParent()).thenThrows('RUN.NOT_ENDED');
  });

  it(`fails its workflow step with CHILD.DEPTH_EXCEEDED, naming the limit, past ${MAX_CHILD_DEPTH} levels`, () => {
    const deep = { ...link, depth: MAX_CHILD_DEPTH };
    const loop = workflow({ again: { type: 'workflow', workflow: { id: 'loop' } } }, { id: 'loop', onFailure: 'fail' });
    given([])
      .when(startRun(loop, {}, { parent: deep }))
      .then(
        'RunStarted',
        {
          type: 'StepFailed',
          data: {
            stepId: 'again',
            error: {
              code: 'CHILD.DEPTH_EXCEEDED',
              message: expect.stringContaining(
                `past the limit of ${MAX_CHILD_DEPTH} nested child runs (MAX_CHILD_DEPTH)`,
              ),
              details: { limit: MAX_CHILD_DEPTH, depth: MAX_CHILD_DEPTH + 1 },
            },
          },
        },
        'RunFailed',
      );
    // One level less still starts its child.
    given([])
      .when(startRun(loop, {}, { parent: { ...link, depth: MAX_CHILD_DEPTH - 1 } }))
      .then('RunStarted', { type: 'ChildRunRequested', data: { depth: MAX_CHILD_DEPTH } });
  });
});
