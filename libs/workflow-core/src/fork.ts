/**
 * Fork: a new run from another run's state at a revision of its history, for what-if repair (the parent is left as
 * it is). The steps done by then start done in the fork, with the parent's outputs; everything else runs as in a
 * fresh run, governance checks included. See docs/semantics.md#fork.
 */
import { quoteForMessage } from '@orchestron/definitions';
import type { CompiledDefinition } from '@orchestron/definitions';
import { DomainError } from './errors.ts';
import type { ForkedStep, RunFork } from './messages.ts';
import { newStepState } from './step-state.ts';
import type { ForkOrigin, RunData, StepState } from './state.ts';
import { toCompleted, toSkipped } from './step-transitions.ts';

/**
 * What a fork of `parent` (its state at `revision`) starts with: the steps completed or skipped by then, with their
 * outputs. A step whose compensation had begun is being undone, or was: the fork runs it again.
 */
export function forkOf(parent: RunData, revision: number, reason: string | null): RunFork {
  const steps: Record<string, ForkedStep> = {};
  for (const id of parent.definition.order) {
    const st = parent.steps[id];
    const comp = parent.compensations[id];
    if (comp !== undefined && comp.status !== 'reset') continue;
    if (st?.status === 'completed') steps[id] = { status: 'completed', output: st.output };
    else if (st?.status === 'skipped') steps[id] = { status: 'skipped', kind: st.skipKind, output: st.output };
  }
  return { runId: parent.runId, revision, reason, steps };
}

/** A fork may only name steps of the definition it runs, as done or skipped. */
export function checkFork(definition: CompiledDefinition, fork: RunFork): void {
  for (const [id, step] of Object.entries(fork.steps)) {
    if (definition.steps[id] === undefined)
      throw new DomainError(
        'COMMAND.INVALID',
        `forkedFrom.steps names step ${quoteForMessage(id)}, which is not in ${definition.id} v${definition.version}`,
        { field: 'forkedFrom.steps', stepId: id },
      );
    if (step.status !== 'completed' && step.status !== 'skipped')
      throw new DomainError(
        'COMMAND.INVALID',
        `forkedFrom.steps.${id}.status must be completed or skipped, not ${JSON.stringify((step as { status: unknown }).status)}`,
        { field: `forkedFrom.steps.${id}.status` },
      );
  }
}

/** A new run's steps: every one pending, but those a fork starts done. */
export function startingSteps(
  definition: CompiledDefinition,
  fork: RunFork | undefined,
  at: number,
): Record<string, StepState> {
  const steps: Record<string, StepState> = {};
  for (const id of definition.order) {
    const fresh = newStepState(id);
    const done = fork?.steps[id];
    steps[id] =
      done === undefined
        ? fresh
        : done.status === 'completed'
          ? toCompleted(fresh, done.output, at)
          : toSkipped(fresh, done.kind, done.output, at);
  }
  return steps;
}

export function originOf(fork: RunFork | undefined): ForkOrigin | null {
  return fork === undefined ? null : { runId: fork.runId, revision: fork.revision, reason: fork.reason };
}
