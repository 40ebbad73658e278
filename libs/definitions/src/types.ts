export type JoinPolicy =
  | { readonly kind: 'all_success' }
  | { readonly kind: 'any_success' }
  | { readonly kind: 'majority' }
  | { readonly kind: 'quorum'; readonly n: number }
  | { readonly kind: 'all_done' };

export type Backoff = 'exponential' | 'fixed';
export type Jitter = 'full' | 'equal' | 'none';
export type OnFailure = 'compensate' | 'escalate' | 'fail';
/** `skip` only on an event step: it then completes as skipped, with a null output. */
export type OnTimeout = 'escalate' | 'fail' | 'skip';

export interface RetryPolicy {
  readonly maxAttempts: number;
  readonly backoff: Backoff;
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  readonly jitter: Jitter;
  /** Error codes that never retry, whatever the worker says. */
  readonly nonRetryable: readonly string[];
}

export interface CompiledCompensation {
  readonly worker: string;
  readonly action: string | null;
  /** Template tree; `${{ }}` strings are evaluated when the compensation is dispatched. */
  readonly input: unknown;
  readonly retry: RetryPolicy;
  readonly timeoutMs: number | null;
  readonly heartbeatTimeoutMs: number | null;
}

export interface CompiledStep {
  readonly id: string;
  readonly type: 'task' | 'approval' | 'event' | 'workflow';
  readonly worker: string | null;
  readonly action: string | null;
  readonly needs: readonly string[];
  readonly join: JoinPolicy;
  /** A CEL expression, without the `${{ }}` wrapper. */
  readonly when: string | null;
  /** Template tree; null means the step receives the run's input. */
  readonly input: unknown;
  /** JSON Schema an operator's edited input must satisfy (retry, redrive); absent when the step declares none. */
  readonly inputSchema?: Readonly<Record<string, unknown>>;
  readonly sideEffect: boolean;
  readonly compensate: CompiledCompensation | null;
  readonly retry: RetryPolicy;
  readonly timeoutMs: number | null;
  readonly heartbeatTimeoutMs: number | null;
  /**
   * How long a side effect waits for governance's ruling before an operator is told (the step keeps waiting:
   * fail closed). Null for approval steps, which governance does not check. Definitions compiled before this
   * field existed lack it; the decider then uses DEFAULT_GOVERNANCE_TIMEOUT_MS.
   */
  readonly governanceTimeoutMs: number | null;
  readonly assignees: readonly string[];
  readonly onTimeout: OnTimeout;
  /**
   * An approval step's second level: who the gate is assigned to as well once its timeout passes; `onTimeout` then
   * applies only when `escalateAfterMs` passes too. Absent when the step declares none (so definitions compiled
   * before it existed, and their fingerprints, are unchanged).
   */
  readonly escalateTo?: readonly string[];
  /** How long the escalated gate waits; present exactly when `escalateTo` is. */
  readonly escalateAfterMs?: number;
  /** An event step's wait: present exactly on event steps (so other steps' fingerprints are unchanged). */
  readonly wait?: EventWait;
  /** A workflow step's child: present exactly on workflow steps (so other steps' fingerprints are unchanged). */
  readonly child?: ChildWorkflow;
  /** The locks a task step takes before it is sent, in order: present exactly when it declares some. */
  readonly locks?: readonly LockDeclaration[];
}

export type LockMode = 'exclusive' | 'shared';

/** A lock a step takes: `name` is a template (`account-${{ input.id }}`), rendered when the attempt is sent. */
export interface LockDeclaration {
  readonly name: string;
  readonly mode: LockMode;
}

/** What happens to a child still running when its parent ends first (Temporal's name for it). */
export type ParentClosePolicy = 'cancel' | 'abandon';

/** The definition a workflow step starts as a child run, in the parent's tenant. */
export interface ChildWorkflow {
  readonly definitionId: string;
  /** Null: the latest version when the child starts (the child run records the one it got). */
  readonly version: number | null;
  readonly parentClosePolicy: ParentClosePolicy;
}

/** What an event step waits for: the event's name, and the key it must carry (`match`, evaluated when it starts waiting). */
export interface EventWait {
  readonly event: string;
  /** A CEL expression, without the `${{ }}` wrapper. */
  readonly match: string;
}

/**
 * What the agents of one run may spend: tokens (input and output together) and cost in one currency. A run that
 * passes either dispatches nothing more and waits for an operator (`BUDGET.EXCEEDED`).
 */
export interface Budget {
  readonly tokens?: number;
  readonly cost?: { readonly amount: number; readonly currency: string };
}

/** The normalised, validated form a run is pinned to. Plain JSON: it is stored in `RunStarted`. */
export interface CompiledDefinition {
  readonly id: string;
  readonly version: number;
  readonly name: string | null;
  readonly description: string | null;
  readonly inputSchema: Readonly<Record<string, unknown>> | null;
  readonly onFailure: OnFailure;
  readonly steps: Readonly<Record<string, CompiledStep>>;
  /** Step ids in a topological order (dependencies first), ties broken by declaration order. */
  readonly order: readonly string[];
  /** Absent when the definition sets none (so the fingerprints of definitions from before budgets are unchanged). */
  readonly budget?: Budget;
  /** Absent when the definition declares none: the schedules registering it creates (docs/schedules.md). */
  readonly schedules?: Readonly<Record<string, DeclaredSchedule>>;
}

export interface DefinitionIssue {
  /** JSON-pointer-like path into the definition, e.g. `/steps/notify-team/needs/0`. */
  readonly path: string;
  readonly message: string;
}

/** What a fire does while the run of the fire before it is still running. */
export type OverlapPolicy = 'skip' | 'buffer_one' | 'allow';
/** What happens to fires that were due while nothing ran the schedule (a restart, an outage). */
export type CatchUpPolicy = 'none' | 'latest' | 'all';

/** A schedule a definition declares under `schedules:` (docs/schedules.md). */
export interface DeclaredSchedule {
  readonly cron: string;
  readonly timezone: string;
  readonly input?: unknown;
  readonly overlap?: OverlapPolicy;
  readonly catchUp?: CatchUpPolicy;
  readonly maxCatchUp?: number;
}
