/** Fork: a new run from another run's state at a revision (docs/semantics.md#fork). */
import { describe, expect, it } from '@jest/globals';
import { forkOf } from './index.ts';
import type { RunFork, WorkflowEvent } from './index.ts';
import {
  dispatches,
  given,
  ofType,
  play,
  skipStep,
  startRun,
  stateOf,
  stepCompleted,
  stepFailed,
  T0,
  workflow,
} from './testing/decider-spec.ts';

const at = (ms: number) => ({ now: T0 + ms });
const CHILD = 'run-2';
const terminal = { error: { retryable: false } };

/** The fork of `history` at its `revision` (counted from 0, as the store counts), as the runtime builds it. */
function forkAt(history: readonly WorkflowEvent[], revision: number, reason: string | null = 'what if'): RunFork {
  return forkOf(stateOf(history.slice(0, revision + 1)), revision, reason);
}

describe('fork', () => {
  const chain = workflow(
    {
      a: { worker: 'wa', input: { email: '${{ input.email }}' } },
      b: { worker: 'wb', needs: ['a'], input: { account: '${{ steps.a.output.id }}', email: '${{ input.email }}' } },
      c: {
        worker: 'wc',
        needs: ['b'],
        input: { account: '${{ steps.a.output.id }}', seat: '${{ steps.b.output.seat }}' },
      },
    },
    { input: { schema: { type: 'object', required: ['email'], properties: { email: { type: 'string' } } } } },
  );
  const parent = play(
    [],
    startRun(chain, { email: 'ada@example.com' }),
    stepCompleted('a', { output: { id: 'acc-1' }, ...at(10) }),
    stepCompleted('b', { output: { seat: 7 }, ...at(20) }),
    stepFailed('c', { ...terminal, ...at(30) }),
  );
  const afterB = parent.findIndex((e) => e.type === 'StepCompleted' && e.data.stepId === 'b');

  it('starts with the steps done by the revision, records where it comes from, and runs only the rest', () => {
    const fork = forkAt(parent, afterB, 'vendor fixed c');
    expect(fork).toEqual({
      runId: 'run-1',
      revision: afterB,
      reason: 'vendor fixed c',
      steps: { a: { status: 'completed', output: { id: 'acc-1' } }, b: { status: 'completed', output: { seat: 7 } } },
    });
    const child = given()
      .when(
        startRun(chain, { email: 'ada@example.com' }, { runId: CHILD, actor: 'olga', forkedFrom: fork, ...at(100) }),
      )
      .then(
        { type: 'RunStarted', data: { runId: CHILD, startedBy: 'olga', forkedFrom: fork } },
        // The upstream outputs feed the expressions downstream, as in the parent.
        {
          type: 'StepDispatched',
          data: { stepId: 'c', attempt: 1, input: { account: 'acc-1', seat: 7 }, idempotencyKey: `${CHILD}/c/1` },
        },
      );
    expect(child.state.forkedFrom).toEqual({ runId: 'run-1', revision: afterB, reason: 'vendor fixed c' });
    expect(child.state.steps['a']).toMatchObject({ status: 'completed', output: { id: 'acc-1' }, attempt: 0 });
    const done = play(child.events, stepCompleted('c', { output: { ok: true }, ...at(200) }));
    expect(stateOf(done).status).toBe('completed');
    // No step the fork started with is dispatched, ever.
    expect(dispatches(done)).toEqual(['c@1']);
  });

  it('forks from an earlier revision: what was not done by then runs again, with a replaced input', () => {
    const afterA = parent.findIndex((e) => e.type === 'StepCompleted' && e.data.stepId === 'a');
    const fork = forkAt(parent, afterA);
    expect(Object.keys(fork.steps)).toEqual(['a']);
    const child = given()
      .when(startRun(chain, { email: 'bob@example.com' }, { runId: CHILD, forkedFrom: fork }))
      .then('RunStarted', {
        type: 'StepDispatched',
        data: { stepId: 'b', input: { account: 'acc-1', email: 'bob@example.com' } },
      });
    const done = play(
      child.events,
      stepCompleted('b', { output: { seat: 9 } }),
      stepCompleted('c', { output: { ok: true } }),
    );
    expect(ofType(done, 'StepDispatched').find((e) => e.data.stepId === 'c')?.data.input).toEqual({
      account: 'acc-1',
      seat: 9,
    });
    expect(dispatches(done)).toEqual(['b@1', 'c@1']);
  });

  it('keeps skipped steps skipped, with their output, so a join past them still holds', () => {
    const gated = workflow({
      a: { worker: 'wa' },
      b: { worker: 'wb', needs: ['a'] },
      c: { worker: 'wc', needs: ['b'], input: { seat: '${{ steps.b.output.seat }}' } },
    });
    const history = play(
      [],
      startRun(gated),
      stepCompleted('a'),
      stepFailed('b'),
      skipStep('b', { seat: 'manual' }, { actor: 'olga', reason: 'by hand' }),
    );
    const revision = history.findIndex((e) => e.type === 'StepSkipped');
    const fork = forkAt(history, revision);
    expect(fork.steps['b']).toEqual({ status: 'skipped', kind: 'operator', output: { seat: 'manual' } });
    given()
      .when(startRun(gated, {}, { runId: CHILD, forkedFrom: fork }))
      .then('RunStarted', { type: 'StepDispatched', data: { stepId: 'c', input: { seat: 'manual' } } });
  });

  it('ends at once when every step was done by the revision', () => {
    const done = play(
      [],
      startRun(chain, { email: 'ada@example.com' }),
      stepCompleted('a', { output: { id: 'acc-1' } }),
      stepCompleted('b', { output: { seat: 7 } }),
      stepCompleted('c', { output: { ok: 1 } }),
    );
    const fork = forkAt(done, done.length - 1);
    given()
      .when(startRun(chain, { email: 'ada@example.com' }, { runId: CHILD, forkedFrom: fork }))
      .then('RunStarted', 'RunCompleted');
  });

  it('runs again a step whose compensation had begun by the revision', () => {
    const undoable = workflow(
      {
        a: { worker: 'wa', compensate: { action: 'undo-a', retry: { maxAttempts: 1 } } },
        b: { worker: 'wb', needs: ['a'], retry: { maxAttempts: 1 } },
      },
      { onFailure: 'compensate' },
    );
    const history = play([], startRun(undoable), stepCompleted('a'), stepFailed('b', terminal));
    expect(stateOf(history).status).toBe('compensating');
    expect(forkAt(history, history.length - 1).steps).toEqual({});
  });

  it('refuses a fork naming a step its definition does not have', () => {
    const fork: RunFork = {
      runId: 'run-1',
      revision: 3,
      reason: null,
      steps: { zz: { status: 'completed', output: 1 } },
    };
    given()
      .when(startRun(chain, { email: 'a@b.c' }, { runId: CHILD, forkedFrom: fork }))
      .thenThrows('COMMAND.INVALID');
  });

  it('checks the input against the schema, as any start', () => {
    given()
      .when(startRun(chain, { nope: true }, { runId: CHILD, forkedFrom: forkAt(parent, afterB) }))
      .thenThrows('RUN.INPUT_INVALID');
  });
});
