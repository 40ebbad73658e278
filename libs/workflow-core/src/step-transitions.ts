/**
 * The moves of a step between statuses, as `evolve` folds them: each builds its status's whole shape from the step
 * before, keeping what every status keeps (step-state.ts) and dropping what only the status left had.
 */
import type { SkipKind, StepError } from './messages.ts';
import { errorOf, inputOverrideOf, isEscalated } from './step-state.ts';
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
  StepState,
  WaitingApprovalStep,
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
