/**
 * A step's state, one shape per status: a pending step has no output, a completed one no error, a step not
 * running nothing held. What a step keeps across every status (its attempts, the input of the last one, when it
 * went out, governance's ruling) is on the base; the rest lives only on the statuses that have it.
 */
import type { GovernanceOutcome, HoldReason, SkipKind, StepError } from './messages.ts';

export type StepStatus =
  | 'pending'
  | 'waiting_governance'
  | 'waiting_approval'
  | 'waiting_event'
  | 'waiting_child'
  | 'running'
  | 'retry_scheduled'
  | 'completed'
  | 'failed'
  | 'skipped'
  | 'cancelled';
export const TERMINAL_STEP_STATUSES: readonly StepStatus[] = ['completed', 'failed', 'skipped', 'cancelled'];

/** A dispatched attempt the runtime has not sent yet (flow control); its timeout is not running. */
export interface Hold {
  readonly reason: HoldReason;
  readonly worker: string;
  readonly since: number;
  /** A lock hold: the locks the attempt takes, in order (the lock table says which it still waits for). */
  readonly locks?: readonly string[];
}

export interface GovernanceRuling {
  readonly outcome: GovernanceOutcome | 'approved';
  readonly policyId: string | null;
  readonly reason: string;
}

interface StepBase {
  readonly id: string;
  /** The last attempt dispatched; 0 before the first. */
  readonly attempt: number;
  /** Attempts before this number do not count against maxAttempts (an operator retry starts a new budget). */
  readonly attemptBase: number;
  /** The input of the last attempt dispatched; null before the first. */
  readonly input: unknown;
  /** When the last attempt was dispatched (kept once it ends: a run view shows it as the step's start); null before. */
  readonly dispatchedAt: number | null;
  /** Governance's ruling, or an operator's approval past it; kept for the record until an operator retry asks again. */
  readonly governance: GovernanceRuling | null;
}

/** Not dispatched yet: the next attempt may go out with an operator's edited input. */
interface Undispatched {
  /** An operator's edited input for the next attempt; undefined for none. */
  readonly inputOverride: unknown;
}

/**
 * A gate (governance's check, an approval) outlived its deadline: an approval step's `timeout` (an operator was
 * told), or governance's `governanceTimeout` (an operator is to be told). It stays so until the gate is decided
 * or asked again.
 */
interface Gate extends Undispatched {
  readonly escalated: boolean;
}

export interface PendingStep extends StepBase, Undispatched {
  readonly status: 'pending';
}

export interface WaitingGovernanceStep extends StepBase, Gate {
  readonly status: 'waiting_governance';
  /** The digest of the input governance was asked about; only a decision about that input applies. */
  readonly askedDigest: string;
}

export interface WaitingApprovalStep extends StepBase, Gate {
  readonly status: 'waiting_approval';
  readonly approvalCause: 'approval_step' | 'governance';
  /** The second level its timeout assigned the gate to as well (the step's `escalateTo`); null until then. */
  readonly escalatedTo: readonly string[] | null;
}

/** An event step waiting for its event: the name, and the key its `match` evaluated to when it began waiting. */
export interface WaitingEventStep extends StepBase {
  readonly status: 'waiting_event';
  readonly event: string;
  readonly key: string;
  readonly since: number;
  /** When its timeout fires; null to wait for as long as it takes. */
  readonly timeoutAt: number | null;
}

/** A workflow step waiting for the child run it started (`attempt` and `input` are the child's start). */
export interface WaitingChildStep extends StepBase {
  readonly status: 'waiting_child';
  readonly childRunId: string;
}

export interface RunningStep extends StepBase {
  readonly status: 'running';
  /** When a worker reported the attempt started; null until then. */
  readonly startedAt: number | null;
  readonly lastHeartbeatAt: number | null;
  /** Set while the attempt out is held by flow control. */
  readonly held: Hold | null;
  /** The attempt's failure, once reported: the same decision then schedules a retry or fails the step. */
  readonly error: StepError | null;
}

export interface RetryScheduledStep extends StepBase, Undispatched {
  readonly status: 'retry_scheduled';
  /** When the retry timer is due; null for an operator's retry, which is due at once. */
  readonly retryAt: number | null;
  readonly retryDue: boolean;
  /** The failure of the attempt before; null for an operator's retry. */
  readonly error: StepError | null;
}

export interface CompletedStep extends StepBase {
  readonly status: 'completed';
  readonly output: unknown;
  readonly finishedAt: number;
}

export interface FailedStep extends StepBase {
  readonly status: 'failed';
  readonly error: StepError;
  readonly finishedAt: number;
}

export interface SkippedStep extends StepBase {
  readonly status: 'skipped';
  readonly skipKind: SkipKind;
  /** The output the step stands for: an operator's, or null. */
  readonly output: unknown;
  readonly finishedAt: number;
  /** The failure an operator skipped past, if there was one. */
  readonly error: StepError | null;
}

export interface CancelledStep extends StepBase {
  readonly status: 'cancelled';
  /** The failure of the attempt before, when a retry was waiting. */
  readonly error: StepError | null;
}

export type StepState =
  | PendingStep
  | WaitingGovernanceStep
  | WaitingApprovalStep
  | WaitingEventStep
  | WaitingChildStep
  | RunningStep
  | RetryScheduledStep
  | CompletedStep
  | FailedStep
  | SkippedStep
  | CancelledStep;

/** The state of a step in one of the given statuses. */
export type StepIn<S extends StepStatus> = Extract<StepState, { readonly status: S }>;

export function newStepState(id: string): PendingStep {
  return {
    id,
    status: 'pending',
    attempt: 0,
    attemptBase: 0,
    input: null,
    inputOverride: undefined,
    dispatchedAt: null,
    governance: null,
  };
}

export function isTerminalStep(status: StepStatus): boolean {
  return (TERMINAL_STEP_STATUSES as readonly string[]).includes(status);
}

/** Whether the step is in one of the given statuses (false for no step). */
export function stepIs<S extends StepStatus>(st: StepState | undefined, ...statuses: readonly S[]): st is StepIn<S> {
  const wanted: readonly StepStatus[] = statuses;
  return st !== undefined && wanted.includes(st.status);
}

/** The output a step stands for: a completed step's, or a skipped one's; null for any other. */
export function outputOf(st: StepState | undefined): unknown {
  return stepIs(st, 'completed', 'skipped') ? st.output : null;
}

/** The failure a step carries: a failed step's, or the last attempt's while a retry waits (or was cut short). */
export function errorOf(st: StepState | undefined): StepError | null {
  return stepIs(st, 'running', 'retry_scheduled', 'failed', 'skipped', 'cancelled') ? st.error : null;
}

export function finishedAtOf(st: StepState | undefined): number | null {
  return stepIs(st, 'completed', 'failed', 'skipped') ? st.finishedAt : null;
}

export function heldOf(st: StepState | undefined): Hold | null {
  return stepIs(st, 'running') ? st.held : null;
}

/** An operator's edited input for the next attempt, while one has not gone out. */
export function inputOverrideOf(st: StepState | undefined): unknown {
  return stepIs(st, 'pending', 'waiting_governance', 'waiting_approval', 'retry_scheduled')
    ? st.inputOverride
    : undefined;
}

/** The assignees a waiting approval gate was escalated to as well; null for any other step, or before. */
export function escalatedToOf(st: StepState | undefined): readonly string[] | null {
  return stepIs(st, 'waiting_approval') ? st.escalatedTo : null;
}

/** Whether a gate the step waits at outlived its deadline. */
export function isEscalated(st: StepState | undefined): boolean {
  return stepIs(st, 'waiting_governance', 'waiting_approval') && st.escalated;
}
