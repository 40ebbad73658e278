import type { CompiledDefinition } from '@orchestron/definitions';
import type { GovernanceOutcome, HoldReason, Phase, SkipKind, StepError, Timer } from './messages.ts';

export type RunStatus =
  'running' | 'paused' | 'needs_operator' | 'compensating' | 'completed' | 'failed' | 'compensated' | 'cancelled';
export const TERMINAL_RUN_STATUSES: readonly RunStatus[] = ['completed', 'failed', 'compensated', 'cancelled'];

export type StepStatus =
  | 'pending'
  | 'waiting_governance'
  | 'waiting_approval'
  | 'running'
  | 'retry_scheduled'
  | 'completed'
  | 'failed'
  | 'skipped'
  | 'cancelled';
export const TERMINAL_STEP_STATUSES: readonly StepStatus[] = ['completed', 'failed', 'skipped', 'cancelled'];

export type CompensationStatus = 'running' | 'retry_scheduled' | 'completed' | 'failed' | 'skipped';

/** A dispatched attempt the runtime has not sent yet (flow control); its timeout is not running. */
export interface Hold {
  readonly reason: HoldReason;
  readonly worker: string;
  readonly since: number;
}

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
  readonly governance: {
    readonly outcome: GovernanceOutcome | 'approved';
    readonly policyId: string | null;
    readonly reason: string;
  } | null;
  readonly approvalCause: 'approval_step' | 'governance' | null;
  /** The digest of the input governance was last asked about; only a decision about that input applies. */
  readonly askedDigest: string | null;
  readonly dispatchedAt: number | null;
  readonly startedAt: number | null;
  readonly lastHeartbeatAt: number | null;
  readonly finishedAt: number | null;
  readonly retryAt: number | null;
  readonly retryDue: boolean;
  /**
   * The step's gate outlived its deadline: an approval step's `timeout` (an operator was told), or governance's
   * `governanceTimeout` (an operator is to be told). It stays so until the gate is decided or asked again.
   */
  readonly escalated: boolean;
  /** Set while the attempt out is held by flow control (status stays `running`). */
  readonly held: Hold | null;
}

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
  /** How many events have been folded into this state. */
  readonly version: number;
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

export function isTerminalStep(status: StepStatus): boolean {
  return (TERMINAL_STEP_STATUSES as readonly string[]).includes(status);
}

export function newStepState(id: string): StepState {
  return {
    id,
    status: 'pending',
    attempt: 0,
    attemptBase: 0,
    input: null,
    inputOverride: undefined,
    output: null,
    error: null,
    skipKind: null,
    governance: null,
    approvalCause: null,
    askedDigest: null,
    dispatchedAt: null,
    startedAt: null,
    lastHeartbeatAt: null,
    finishedAt: null,
    retryAt: null,
    retryDue: false,
    escalated: false,
    held: null,
  };
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
