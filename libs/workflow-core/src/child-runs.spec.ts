/** Workflow steps (`type: workflow`): starting a child run, taking its outcome, closing and compensating it. */
import { describe, expect, it } from '@jest/globals';
import {
  cancel,
  childOutcome,
  given,
  play,
  retryStep,
  RUN_ID,
  skipStep,
  startRun,
  stepCompleted,
  stepFailed,
  workflow,
} from './testing/decider-spec.ts';
import { at, CHILD, input, parentDef, waiting } from './testing/child-fixtures.ts';
import { childRunIdOf } from './child-runs.ts';
import { effectsOf } from './effects.ts';
import { outstanding } from './recovery.ts';

describe('a workflow step', () => {
  it('starts its child with the mapped input, a run id derived from the run, the step and the attempt, one level deeper', () => {
    const decided = given(play([], startRun(parentDef(), input)))
      .when(stepCompleted('reserve', { ...at(10), output: { sku: 'S-1' } }))
      .then('StepCompleted', {
        type: 'ChildRunRequested',
        data: {
          stepId: 'provision',
          attempt: 1,
          childRunId: CHILD,
          definitionId: 'provision-user',
          version: 2,
          input: { email: 'a@b.c', sku: 'S-1' },
          parentClosePolicy: 'cancel',
          depth: 1,
        },
      });
    expect(decided.state.steps.provision).toMatchObject({ status: 'waiting_child', childRunId: CHILD, attempt: 1 });
    expect(decided.produced.flatMap(effectsOf)).toContainEqual({
      type: 'StartChild',
      data: {
        stepId: 'provision',
        childRunId: CHILD,
        definitionId: 'provision-user',
        version: 2,
        input: { email: 'a@b.c', sku: 'S-1' },
        parentClosePolicy: 'cancel',
        depth: 1,
      },
    });
    expect(CHILD).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(childRunIdOf(RUN_ID, 'provision', 2)).not.toBe(CHILD);
    expect(childRunIdOf('run-2', 'provision', 1)).not.toBe(CHILD);
  });

  it('completes with the child output, and the run goes on with it', () => {
    given(waiting())
      .when(childOutcome('provision', 'completed', { ...at(60), output: { create: { id: 'u-1' } } }))
      .then(
        {
          type: 'ChildRunEnded',
          data: { stepId: 'provision', childRunId: CHILD, phase: 'execute', status: 'completed' },
        },
        { type: 'StepCompleted', data: { stepId: 'provision', attempt: 1, output: { create: { id: 'u-1' } } } },
        { type: 'StepDispatched', data: { stepId: 'notify', input: { account: { id: 'u-1' } } } },
      );
  });

  it("fails with the child's failure (CHILD.FAILED naming the child and its cause), and the parent compensates", () => {
    const cause = { code: 'CARD.DECLINED', message: 'declined', retryable: false };
    given(waiting())
      .when(childOutcome('provision', 'failed', { ...at(60), error: cause }))
      .thenIncludes(
        { type: 'ChildRunEnded', data: { status: 'failed' } },
        {
          type: 'StepFailed',
          data: {
            stepId: 'provision',
            error: {
              code: 'CHILD.FAILED',
              message: `child run ${CHILD} failed: CARD.DECLINED: declined`,
              details: { childRunId: CHILD, status: 'failed', cause },
            },
          },
        },
        'CompensationStarted',
        { type: 'StepDispatched', data: { stepId: 'reserve', phase: 'compensate' } },
      );
  });

  it('fails CHILD.NOT_STARTED when the child could not start (a definition the tenant cannot see)', () => {
    const error = { code: 'DEFINITION.NOT_FOUND', message: 'no definition "provision-user"', retryable: false };
    given(waiting({}, { onFailure: 'fail' }))
      .when(childOutcome('provision', 'not_started', { ...at(20), error }))
      .thenIncludes(
        {
          type: 'StepFailed',
          data: {
            stepId: 'provision',
            error: {
              code: 'CHILD.NOT_STARTED',
              message: 'the child run did not start: no definition "provision-user"',
              details: { cause: 'DEFINITION.NOT_FOUND' },
            },
          },
        },
        'RunFailed',
      );
  });

  it('ignores an outcome for another child, and a second outcome once the step has taken one', () => {
    given(waiting())
      .when(childOutcome('provision', 'completed', { childRunId: 'someone-else', output: {} }))
      .thenIgnores('child_moot', /does not wait for child run/);
    const done = play(waiting(), childOutcome('provision', 'completed', { ...at(60), output: { create: 1 } }));
    given(done)
      .when(childOutcome('provision', 'failed', at(70)))
      .thenIgnores('child_moot');
  });

  it('is retried by an operator with a new child (the next attempt), never a second child for the same attempt', () => {
    const failed = play(waiting({}, { onFailure: 'escalate' }), childOutcome('provision', 'failed', at(60)));
    const retried = given(failed)
      .when(retryStep('provision', at(90)))
      .thenIncludes('OperatorRetried', {
        type: 'ChildRunRequested',
        data: { attempt: 2, childRunId: childRunIdOf(RUN_ID, 'provision', 2) },
      });
    // The old child's late report is about a step that no longer waits for it.
    given(retried.events)
      .when(childOutcome('provision', 'completed', { output: { create: 1 } }))
      .thenIgnores('child_moot');
  });

  it("rejects a worker's report about it, in either phase: no worker runs it (its child does)", () => {
    const report = (phase: 'execute' | 'compensate') => ({
      type: 'RecordStepCompleted' as const,
      data: { stepId: 'provision', attempt: 1, phase, output: { forged: true } },
      metadata: at(40),
    });
    given(waiting())
      .when(report('execute'))
      .thenRejects('COMMAND.INVALID', /is a workflow step: no worker runs it/);
    const compensating = play(
      waiting(),
      childOutcome('provision', 'completed', { output: { create: 1 } }),
      stepFailed('notify', { error: { retryable: false } }),
    );
    given(compensating).when(report('compensate')).thenRejects('COMMAND.INVALID');
  });

  it('is refused a retry while its child runs: the child is not started twice', () => {
    given(waiting()).when(retryStep('provision')).thenThrows('STEP.NOT_FAILED');
  });

  it('asks the runtime again, on recovery, for the child it still waits for (an idempotent start)', () => {
    const { children } = outstanding(waiting());
    expect(children).toEqual([
      expect.objectContaining({ type: 'StartChild', data: expect.objectContaining({ childRunId: CHILD }) }),
    ]);
    const done = play(waiting(), childOutcome('provision', 'completed', { output: { create: 1 } }));
    expect(outstanding(done).children).toEqual([]);
  });
});

describe("a workflow step's parent close policy", () => {
  it('cancels the child when the parent is cancelled (policy cancel, the default)', () => {
    const decided = given(waiting())
      .when(cancel({ ...at(30), reason: 'not needed' }))
      .then(
        { type: 'ChildRunClosed', data: { stepId: 'provision', childRunId: CHILD, policy: 'cancel' } },
        'RunCancelled',
      );
    expect(decided.produced.flatMap(effectsOf)).toContainEqual({
      type: 'CancelChild',
      data: { stepId: 'provision', childRunId: CHILD },
    });
  });

  it('lets the child run on when the policy is abandon (recorded, no effect)', () => {
    const decided = given(waiting({ parentClosePolicy: 'abandon' }))
      .when(cancel(at(30)))
      .then({ type: 'ChildRunClosed', data: { policy: 'abandon' } }, 'RunCancelled');
    expect(decided.produced.flatMap(effectsOf).map((e) => e.type)).not.toContain('CancelChild');
  });

  it("closes the child when an operator skips the step waiting for it, and ignores the child's late outcome", () => {
    const decided = given(waiting())
      .when(skipStep('provision', { create: 'by hand' }, at(30)))
      .thenIncludes(
        { type: 'StepSkipped', data: { stepId: 'provision', kind: 'operator' } },
        { type: 'ChildRunClosed', data: { stepId: 'provision', childRunId: CHILD, policy: 'cancel' } },
        { type: 'StepDispatched', data: { stepId: 'notify', input: { account: 'by hand' } } },
      );
    expect(decided.produced.flatMap(effectsOf)).toContainEqual({
      type: 'CancelChild',
      data: { stepId: 'provision', childRunId: CHILD },
    });
    given(decided.events)
      .when(childOutcome('provision', 'completed', { output: { create: 1 } }))
      .thenIgnores('child_moot');
  });

  it.each([
    ['compensate', 'CompensationStarted'],
    ['fail', 'RunFailed'],
  ] as const)(
    'closes the child when a parallel branch fails and the parent ends it (onFailure: %s)',
    (onFailure, ending) => {
      const def = workflow(
        {
          provision: { type: 'workflow', workflow: { id: 'provision-user' } },
          charge: { worker: 'billing' },
        },
        { onFailure },
      );
      const running = play([], startRun(def, input));
      const decided = given(running)
        .when(stepFailed('charge', { error: { retryable: false } }))
        .thenIncludes('StepFailed', { type: 'ChildRunClosed', data: { stepId: 'provision', policy: 'cancel' } });
      expect(decided.produced.map((e) => e.type)).toContain(ending);
      // Nothing after a run's end: the close is recorded before it.
      expect(decided.produced.at(-1)?.type).not.toBe('ChildRunClosed');
      expect(decided.state.steps.provision?.status).toBe('cancelled');
    },
  );
});
