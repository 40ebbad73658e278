/**
 * Workflow steps: a step that starts another definition as a child run and takes its outcome. The child's run id is
 * derived from the parent's run id, the step and its attempt, which only an operator moves (a workflow step has no
 * automatic retries: the child retries its own steps), so a replay, a recovery or a repeated effect names the same
 * child, and the runtime's start of it is idempotent. Starting, cancelling and compensating the child are effects.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import { quoteForMessage } from '@orchestron/definitions';
import type { CompiledDefinition, CompiledStep } from '@orchestron/definitions';
import { DomainError, StepErrorCodes } from './errors.ts';
import { failStep } from './event-builders.ts';
import type { ChildOutcome, StepError, WorkflowEvent } from './messages.ts';
import { isTerminalRun, stepAt } from './state.ts';
import type { RunData, RunState } from './state.ts';
import { outputOf } from './step-state.ts';
import type { PendingStep, RetryScheduledStep } from './step-state.ts';
import { ignore } from './unapplied.ts';
import type { Unapplied } from './unapplied.ts';

/** How deep children may nest: a top-level run is at depth 0, so its children at 1, theirs at 2, … up to this. */
export const MAX_CHILD_DEPTH = 8;

/** A child's run id: UUID-shaped, from sha256 of the parent run id, the step and the attempt (see the file comment). */
export function childRunIdOf(parentRunId: string, stepId: string, attempt: number): string {
  const hex = bytesToHex(sha256(utf8ToBytes(`child\u0000${parentRunId}\u0000${stepId}\u0000${attempt}`)));
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** The child run a workflow step started last (from its attempt); null before it started one. */
export function childRunOf(s: RunData, stepId: string): string | null {
  const st = s.steps[stepId];
  if (st === undefined || st.attempt === 0 || s.definition.steps[stepId]?.type !== 'workflow') return null;
  return st.status === 'waiting_child' ? st.childRunId : childRunIdOf(s.runId, stepId, st.attempt);
}

/** How deep this run is among its ancestors (0 for a top-level run). */
export function depthOf(s: RunData): number {
  return s.parent?.depth ?? 0;
}

/** A workflow step whose join and condition hold: it starts its child, unless that would nest too deep. */
export function startChild(
  s: RunData,
  def: CompiledStep,
  st: PendingStep | RetryScheduledStep,
  input: unknown,
  now: number,
): WorkflowEvent[] {
  const child = def.child;
  const depth = depthOf(s) + 1;
  if (child === undefined) return [failStep(def.id, st.attempt, notStarted('the step names no workflow'), now)];
  if (depth > MAX_CHILD_DEPTH)
    return [
      failStep(
        def.id,
        st.attempt,
        {
          code: StepErrorCodes.childDepthExceeded,
          message: `workflow ${quoteForMessage(child.definitionId)} would start at depth ${depth}, past the limit of ${MAX_CHILD_DEPTH} nested child runs (MAX_CHILD_DEPTH): does a definition start itself?`,
          retryable: false,
          details: { limit: MAX_CHILD_DEPTH, depth },
        },
        now,
      ),
    ];
  const attempt = st.attempt + 1;
  return [
    {
      type: 'ChildRunRequested',
      data: {
        stepId: def.id,
        attempt,
        childRunId: childRunIdOf(s.runId, def.id, attempt),
        definitionId: child.definitionId,
        version: child.version,
        input,
        parentClosePolicy: child.parentClosePolicy,
        depth,
        at: now,
      },
    },
  ];
}

/** A child's outcome: the step waiting for it completes or fails, or the compensation waiting for it settles. */
export function recordChildOutcome(s: RunData, outcome: ChildOutcome, now: number): WorkflowEvent[] | Unapplied {
  const { stepId, childRunId, status } = outcome;
  if (isTerminalRun(s.status))
    return ignore('run_ended', `child run ${quoteForMessage(childRunId)} reported after the run ended (${s.status})`);
  const waiting = stepAt(s, stepId, 'waiting_child');
  if (waiting !== undefined && waiting.childRunId === childRunId) {
    const ended: WorkflowEvent = {
      type: 'ChildRunEnded',
      data: { stepId, childRunId, phase: 'execute', status, at: now },
    };
    if (status === 'completed')
      return [
        ended,
        { type: 'StepCompleted', data: { stepId, attempt: waiting.attempt, output: outcome.output ?? null, at: now } },
      ];
    return [ended, failStep(stepId, waiting.attempt, childError(outcome), now)];
  }
  const comp = s.compensations[stepId];
  const done = stepAt(s, stepId, 'completed');
  if (comp?.status === 'running' && done !== undefined && childRunIdOf(s.runId, stepId, done.attempt) === childRunId) {
    if (status === 'completed') return ignore('child_moot', `child run ${childRunId} has not compensated yet`);
    const ended: WorkflowEvent = {
      type: 'ChildRunEnded',
      data: { stepId, childRunId, phase: 'compensate', status, at: now },
    };
    if (status === 'compensated')
      return [ended, { type: 'CompensationCompleted', data: { stepId, attempt: comp.attempt, output: null, at: now } }];
    return [
      ended,
      { type: 'CompensationFailed', data: { stepId, attempt: comp.attempt, error: childError(outcome), at: now } },
    ];
  }
  return ignore(
    'child_moot',
    `step ${quoteForMessage(stepId)} of run ${quoteForMessage(s.runId)} does not wait for child run ${quoteForMessage(childRunId)}`,
  );
}

function childError(outcome: ChildOutcome): StepError {
  if (outcome.status === 'not_started')
    return notStarted(outcome.error?.message ?? 'unknown reason', outcome.error?.code);
  const cause = outcome.error;
  return {
    code: StepErrorCodes.childFailed,
    message: `child run ${outcome.childRunId} ${outcome.status}${cause ? `: ${cause.code}: ${cause.message}` : ''}`,
    retryable: false,
    details: { childRunId: outcome.childRunId, status: outcome.status, ...(cause ? { cause } : {}) },
  };
}

function notStarted(message: string, cause?: string): StepError {
  return {
    code: StepErrorCodes.childNotStarted,
    message: `the child run did not start: ${message}`,
    retryable: false,
    ...(cause !== undefined ? { details: { cause } } : {}),
  };
}

/** A step declaring a compensation, or a workflow step: its child run compensates. */
export function isUndoable(s: RunData, stepId: string): boolean {
  const def = s.definition.steps[stepId];
  return def?.type === 'workflow' || (def?.compensate ?? null) !== null;
}

/** A completed workflow step, when its parent compensates: its child compensates. */
export function compensateChild(s: RunData, stepId: string, attempt: number, now: number): WorkflowEvent[] {
  const st = stepAt(s, stepId, 'completed');
  if (st === undefined) return [];
  const childRunId = childRunIdOf(s.runId, stepId, st.attempt);
  return [{ type: 'ChildCompensationRequested', data: { stepId, childRunId, attempt, at: now } }];
}

/**
 * Children the parent stopped waiting for in this step of a decision (the step was cancelled by a cancel, a failure
 * or a compensation, or an operator skipped it): each is closed by its policy, which the event records and the
 * runtime carries out.
 */
export function closedChildren(before: RunState, after: RunState, now: number): WorkflowEvent[] {
  if (before.status === 'none' || after.status === 'none') return [];
  const events: WorkflowEvent[] = [];
  for (const id of childSteps(after.definition)) {
    const was = before.steps[id];
    const status = after.steps[id]?.status;
    if (was?.status !== 'waiting_child' || (status !== 'cancelled' && status !== 'skipped')) continue;
    const policy = after.definition.steps[id]?.child?.parentClosePolicy ?? 'cancel';
    events.push({ type: 'ChildRunClosed', data: { stepId: id, childRunId: was.childRunId, policy, at: now } });
  }
  return events;
}

const childStepsCache = new WeakMap<CompiledDefinition, readonly string[]>();

/** The steps that start a child run, in order: the only ones that can wait for one. */
function childSteps(definition: CompiledDefinition): readonly string[] {
  let ids = childStepsCache.get(definition);
  if (ids === undefined) {
    ids = definition.order.filter((id) => definition.steps[id]?.type === 'workflow');
    childStepsCache.set(definition, ids);
  }
  return ids;
}

/** A child run's output, as its parent's step takes it: its steps' outputs by step id (completed and skipped ones). */
export function runOutput(s: RunData): Record<string, unknown> {
  const output: Record<string, unknown> = {};
  for (const id of s.definition.order) {
    const st = s.steps[id];
    if (st?.status === 'completed' || st?.status === 'skipped') output[id] = outputOf(st);
  }
  return output;
}

/**
 * The parent of this completed child run compensates the step that started it: the child compensates its own
 * completed steps. With none to undo, it is compensated at once (there is nothing of it left in the world).
 */
export function compensateForParent(s: RunData, by: string, reason: string | null, now: number): WorkflowEvent[] {
  if (s.parent === null)
    throw new DomainError('COMMAND.INVALID', `run ${quoteForMessage(s.runId)} has no parent run to compensate for`);
  if (s.status !== 'completed')
    throw new DomainError(
      'RUN.NOT_ENDED',
      `run ${quoteForMessage(s.runId)} is ${s.status}; a child run is compensated for its parent once it has completed`,
      { status: s.status },
    );
  const started: WorkflowEvent = {
    type: 'CompensationStarted',
    data: { cause: reason ?? `its parent run ${s.parent.runId} compensates step "${s.parent.stepId}"`, by, at: now },
  };
  const undoable = s.definition.order.filter((id) => s.steps[id]?.status === 'completed' && isUndoable(s, id));
  if (undoable.length > 0) return [started];
  return [started, { type: 'RunCompensated', data: { compensated: [], at: now } }];
}
