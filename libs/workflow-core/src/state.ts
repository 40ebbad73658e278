import type { Budget, CompiledDefinition } from '@orchestron/definitions';
import type { ParentLink, Phase, StepError, Timer } from './messages.ts';
import { stepIs } from './step-state.ts';
import type { Hold, StepIn, StepState, StepStatus } from './step-state.ts';

export {
  errorOf,
  escalatedToOf,
  finishedAtOf,
  heldOf,
  inputOverrideOf,
  isEscalated,
  isTerminalStep,
  newStepState,
  outputOf,
  stepIs,
  TERMINAL_STEP_STATUSES,
} from './step-state.ts';
export type {
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

/** Every status a run can have. */
export const RUN_STATUSES = [
  'running',
  'paused',
  'needs_operator',
  'compensating',
  'completed',
  'failed',
  'compensated',
  'cancelled',
] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export const TERMINAL_RUN_STATUSES: readonly RunStatus[] = ['completed', 'failed', 'compensated', 'cancelled'];

/** `reset`: the step was re-driven after it was undone; it is undone again only if it completes again. */
export type CompensationStatus = 'running' | 'retry_scheduled' | 'completed' | 'failed' | 'skipped' | 'reset';

export interface CompensationState {
  readonly stepId: string;
  readonly status: CompensationStatus;
  readonly attempt: number;
  readonly attemptBase: number;
  /** An operator's edited input for the next attempt. */
  readonly inputOverride: unknown;
  /** The input of the last attempt dispatched (a released attempt is sent with it). */
  readonly input: unknown;
  readonly error: StepError | null;
  readonly retryDue: boolean;
  readonly held: Hold | null;
}

export interface RunData {
  readonly status: RunStatus;
  readonly phase: Phase;
  readonly runId: string;
  readonly definition: CompiledDefinition;
  readonly input: unknown;
  readonly idempotencyKey: string | null;
  readonly startedBy: string;
  /** Whose run it is; `default` for runs started without one. */
  readonly tenant: string;
  /** Governance rules on every task step, not only those the definition flags (set when governance is configured). */
  readonly governEveryStep: boolean;
  readonly startedAt: number;
  readonly updatedAt: number;
  readonly steps: Readonly<Record<string, StepState>>;
  readonly compensations: Readonly<Record<string, CompensationState>>;
  readonly timers: Readonly<Record<string, Timer>>;
  readonly pausedFrom: RunStatus | null;
  readonly attention: { readonly code: string; readonly message: string; readonly stepId: string | null } | null;
  readonly failure: { readonly stepId: string | null; readonly error: StepError } | null;
  /** The run this one was forked from, at which revision and why; null for a run started afresh. */
  readonly forkedFrom: ForkOrigin | null;
  /** The parent run and workflow step that started this run as a child; null for a top-level run. */
  readonly parent: ParentLink | null;
  /** What workers reported the run's attempts used, in all; and per step (only steps that reported any). */
  readonly usage: UsageTotals;
  readonly stepUsage: Readonly<Record<string, UsageTotals>>;
  /** The start's budget, else the definition's, as an operator last raised it; null for none. */
  readonly budget: Budget | null;
  /** How many events have been folded into this state. */
  readonly version: number;
}

/** Usage summed: tokens, and cost per currency (see usage.ts). */
export interface UsageTotals {
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly cost: Readonly<Record<string, number>>;
}

export interface ForkOrigin {
  readonly runId: string;
  readonly revision: number;
  readonly reason: string | null;
}

export type RunState = { readonly status: 'none'; readonly version: 0 } | RunData;

export const DEFAULT_TENANT = 'default';

/** Whether governance rules on this step before it runs. */
export function isGoverned(s: RunData, stepId: string): boolean {
  const def = s.definition.steps[stepId];
  return def?.type === 'task' && (def.sideEffect || s.governEveryStep);
}

export const initialState = (): RunState => ({ status: 'none', version: 0 });

export function isStarted(state: RunState): state is RunData {
  return state.status !== 'none';
}

export function isTerminalRun(status: RunState['status']): boolean {
  return (TERMINAL_RUN_STATUSES as readonly string[]).includes(status);
}

/** The run's step `stepId`, when it is in one of the given statuses. */
export function stepAt<S extends StepStatus>(
  s: RunData,
  stepId: string,
  ...statuses: readonly S[]
): StepIn<S> | undefined {
  const st = s.steps[stepId];
  return stepIs(st, ...statuses) ? st : undefined;
}

/** Whether this attempt is the one out (held or not) of a run still going: only its reports can change anything. */
export function attemptIsOut(s: RunData, stepId: string, attempt: number, phase: Phase): boolean {
  if (isTerminalRun(s.status)) return false;
  if (phase === 'execute') {
    const st = s.steps[stepId];
    return st?.status === 'running' && st.attempt === attempt;
  }
  const c = s.compensations[stepId];
  return c?.status === 'running' && c.attempt === attempt;
}
