/**
 * The moves of a step between statuses, as `evolve` folds them: each builds its status's whole shape from the step
 * before, keeping what every status keeps (step-state.ts) and dropping what only the status left had. `moveStep`
 * and `moveStepIn` apply one to a run.
 */
import type { SkipKind, StepError } from './messages.ts';
import { isGoverned } from './state.ts';
import type { RunData } from './state.ts';
import { errorOf, escalatedToOf, inputOverrideOf, isEscalated, stepIs } from './step-state.ts';
import type {
  CancelledStep,
  CompletedStep,
  FailedStep,
  GovernanceRuling,
  Hold,
  PendingStep,
  RetryScheduledStep,
  RunningStep,
  SkippedStep,
  StepIn,
  StepState,
  StepStatus,
  WaitingApprovalStep,
  WaitingChildStep,
  WaitingEventStep,
  WaitingGovernanceStep,
} from './step-state.ts';

type Base = Pick<StepState, 'id' | 'attempt' | 'attemptBase' | 'input' | 'dispatchedAt' | 'governance'>;

function base(st: StepState): Base {
  const { id, attempt, attemptBase, input, dispatchedAt, governance } = st;
  return { id, attempt, attemptBase, input, dispatchedAt, governance };
}

/** Back to pending: `governance` and `inputOverride` as given, the rest kept (an operator retry also moves attemptBase). */
export function toPending(
  st: StepState,
  change: {
    readonly governance: GovernanceRuling | null;
    readonly inputOverride: unknown;
    readonly attemptBase?: number;
  },
): PendingStep {
  return {
    ...base(st),
    status: 'pending',
    governance: change.governance,
    inputOverride: change.inputOverride,
    attemptBase: change.attemptBase ?? st.attemptBase,
  };
}

export function toWaitingGovernance(st: StepState, askedDigest: string): WaitingGovernanceStep {
  return {
    ...base(st),
    status: 'waiting_governance',
    inputOverride: inputOverrideOf(st),
    askedDigest,
    escalated: false,
  };
}

export function toWaitingApproval(
  st: StepState,
  approvalCause: WaitingApprovalStep['approvalCause'],
): WaitingApprovalStep {
  return {
    ...base(st),
    status: 'waiting_approval',
    inputOverride: inputOverrideOf(st),
    approvalCause,
    escalated: isEscalated(st),
    escalatedTo: escalatedToOf(st),
  };
}

export function toWaitingEvent(
  st: StepState,
  wait: Pick<WaitingEventStep, 'event' | 'key' | 'since' | 'timeoutAt'>,
): WaitingEventStep {
  return { ...base(st), status: 'waiting_event', ...wait };
}

/** A workflow step started its child run: the attempt and input are the child's start. */
export function toWaitingChild(
  st: StepState,
  start: { readonly attempt: number; readonly input: unknown; readonly childRunId: string; readonly at: number },
): WaitingChildStep {
  return {
    ...base(st),
    status: 'waiting_child',
    attempt: start.attempt,
    input: start.input,
    dispatchedAt: start.at,
    childRunId: start.childRunId,
  };
}

export function toRunning(st: StepState, attempt: number, input: unknown, at: number): RunningStep {
  return {
    ...base(st),
    status: 'running',
    attempt,
    input,
    dispatchedAt: at,
    startedAt: null,
    lastHeartbeatAt: null,
    held: null,
    error: null,
  };
}

/** The retry timer's (`retryAt`), after a failed attempt; or an operator's, due at once, with its edited input. */
export function toRetryScheduled(
  st: StepState,
  retry:
    | { readonly by: 'timer'; readonly retryAt: number }
    | { readonly by: 'operator'; readonly inputOverride: unknown; readonly attemptBase: number },
): RetryScheduledStep {
  if (retry.by === 'timer')
    return {
      ...base(st),
      status: 'retry_scheduled',
      inputOverride: inputOverrideOf(st),
      retryAt: retry.retryAt,
      retryDue: false,
      error: errorOf(st),
    };
  return {
    ...base(st),
    status: 'retry_scheduled',
    attemptBase: retry.attemptBase,
    inputOverride: retry.inputOverride,
    retryAt: null,
    retryDue: true,
    error: null,
  };
}

export function toCompleted(st: StepState, output: unknown, at: number): CompletedStep {
  return { ...base(st), status: 'completed', output, finishedAt: at };
}

export function toFailed(st: StepState, error: StepError, at: number): FailedStep {
  return { ...base(st), status: 'failed', error, finishedAt: at };
}

export function toSkipped(st: StepState, skipKind: SkipKind, output: unknown, at: number): SkippedStep {
  return { ...base(st), status: 'skipped', skipKind, output, finishedAt: at, error: errorOf(st) };
}

export function toCancelled(st: StepState): CancelledStep {
  return { ...base(st), status: 'cancelled', error: errorOf(st) };
}

/** A gate decided, rejected or asked again is no longer overdue; any other step has no deadline to outlive. */
export function unescalated(st: StepState): StepState {
  return st.status === 'waiting_governance' || st.status === 'waiting_approval' ? { ...st, escalated: false } : st;
}

export function escalated(st: StepState): StepState {
  return st.status === 'waiting_governance' || st.status === 'waiting_approval' ? { ...st, escalated: true } : st;
}

export function withHold(st: StepState, held: Hold | null): StepState {
  return st.status === 'running' ? { ...st, held } : st;
}

/** The run with step `id` moved on by `move`. */
export function moveStep(s: RunData, id: string, move: (st: StepState) => StepState): RunData {
  const current = s.steps[id];
  if (!current) return s;
  return { ...s, steps: { ...s.steps, [id]: move(current) } };
}

/** Like `moveStep`, for a step in one of `statuses`; any other is left as it is. */
export function moveStepIn<S extends StepStatus>(
  s: RunData,
  id: string,
  statuses: readonly S[],
  move: (st: StepIn<S>) => StepState,
): RunData {
  const current = s.steps[id];
  return stepIs(current, ...statuses) ? { ...s, steps: { ...s.steps, [id]: move(current) } } : s;
}

/**
 * Whether an operator's retry takes the step back through its join, condition and gates rather than straight to
 * a new attempt: it never ran, it is a gate, governance is asked again, or its edited input or a refusal needs a
 * new ruling.
 */
export function gatedAgain(s: RunData, prior: StepState, input: unknown): boolean {
  // Governance allowed the input it saw: an operator's edited input for a side effect is checked again.
  const edited = input !== undefined && isGoverned(s, prior.id);
  const ruling = prior.governance?.outcome;
  return (
    prior.attempt === 0 ||
    edited ||
    prior.status === 'waiting_governance' ||
    s.definition.steps[prior.id]?.type === 'approval' ||
    (ruling !== undefined && ruling !== 'allow' && ruling !== 'approved')
  );
}
