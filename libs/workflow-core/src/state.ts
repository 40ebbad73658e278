import type { CompiledDefinition } from '@orchestron/definitions';
import type { GovernanceOutcome, Phase, SkipKind, StepError, Timer } from './messages.ts';

export type RunStatus = 'running' | 'paused' | 'needs_operator' | 'compensating' | 'completed' | 'failed' | 'compensated' | 'cancelled';
export const TERMINAL_RUN_STATUSES: readonly RunStatus[] = ['completed', 'failed', 'compensated', 'cancelled'];

export type StepStatus =
  | 'pending' | 'waiting_governance' | 'waiting_approval' | 'running' | 'retry_scheduled'
  | 'completed' | 'failed' | 'skipped' | 'cancelled';
export const TERMINAL_STEP_STATUSES: readonly StepStatus[] = ['completed', 'failed', 'skipped', 'cancelled'];

export type CompensationStatus = 'running' | 'retry_scheduled' | 'completed' | 'failed' | 'skipped';

export interface StepState {
  readonly id: string;
  readonly status: StepStatus;
  /** The last attempt dispatched; 0 before the first. */
  readonly attempt: number;
  /** Attempts before this number do not count against maxAttempts (an operator retry starts a new budget). */
  readonly attemptBase: number;
  readonly input: unknown;
  /** An operator's edited input for the next attempt. */
  readonly inputOverride: unknown;
  readonly output: unknown;
  readonly error: StepError | null;
  readonly skipKind: SkipKind | null;
  readonly governance: { readonly outcome: GovernanceOutcome | 'approved'; readonly policyId: string | null; readonly reason: string } | null;
  readonly approvalCause: 'approval_step' | 'governance' | null;
  readonly dispatchedAt: number | null;
  readonly startedAt: number | null;
  readonly lastHeartbeatAt: number | null;
  readonly finishedAt: number | null;
  readonly retryAt: number | null;
  readonly retryDue: boolean;
  /** An operator was told this approval timed out; it stays so until someone decides it. */
  readonly escalated: boolean;
}

export interface CompensationState {
  readonly stepId: string;
  readonly status: CompensationStatus;
  readonly attempt: number;
  readonly attemptBase: number;
  /** An operator's edited input for the next attempt. */
  readonly inputOverride: unknown;
  readonly error: StepError | null;
  readonly retryDue: boolean;
}

export interface RunData {
  readonly status: RunStatus;
  readonly phase: Phase;
  readonly runId: string;
  readonly definition: CompiledDefinition;
  readonly input: unknown;
  readonly idempotencyKey: string | null;
  readonly startedBy: string;
  readonly startedAt: number;
  readonly updatedAt: number;
  readonly steps: Readonly<Record<string, StepState>>;
  readonly compensations: Readonly<Record<string, CompensationState>>;
  readonly timers: Readonly<Record<string, Timer>>;
  readonly pausedFrom: RunStatus | null;
  readonly attention: { readonly code: string; readonly message: string; readonly stepId: string | null } | null;
  readonly failure: { readonly stepId: string | null; readonly error: StepError } | null;
  /** How many events have been folded into this state. */
  readonly version: number;
}

export type RunState = { readonly status: 'none'; readonly version: 0 } | RunData;

export const initialState = (): RunState => ({ status: 'none', version: 0 });

export function isStarted(state: RunState): state is RunData {
  return state.status !== 'none';
}

export function isTerminalRun(status: RunState['status']): boolean {
  return (TERMINAL_RUN_STATUSES as readonly string[]).includes(status);
}

export function isTerminalStep(status: StepStatus): boolean {
  return (TERMINAL_STEP_STATUSES as readonly string[]).includes(status);
}

export function newStepState(id: string): StepState {
  return {
    id, status: 'pending', attempt: 0, attemptBase: 0, input: null, inputOverride: undefined, output: null, error: null,
    skipKind: null, governance: null, approvalCause: null, dispatchedAt: null, startedAt: null, lastHeartbeatAt: null,
    finishedAt: null, retryAt: null, retryDue: false, escalated: false,
  };
}
