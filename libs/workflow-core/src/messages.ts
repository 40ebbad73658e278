import type { Budget, CompiledDefinition, LockDeclaration, ParentClosePolicy } from '@orchestron/definitions';

/** Every command carries the time it is decided at; the core never reads a clock. */
export interface CommandMetadata {
  readonly now: number;
  readonly actor?: string;
}

export type Phase = 'execute' | 'compensate';
/**
 * Why the runtime could not send a dispatched attempt yet: its worker's breaker is open, the worker is at its limit
 * or its rate, or the step waits for a lock another step holds.
 */
export type HoldReason = 'breaker_open' | 'concurrency_limit' | 'rate_limit' | 'lock';
/** A lock an attempt takes before it is sent: the step's declaration with its name rendered (see step-locks.ts). */
export type LockClaim = LockDeclaration;
/** What an attempt held for its locks waits for: the names, in the order it takes them. */
type Waits = { readonly locks?: readonly string[] };
export type GovernanceOutcome = 'allow' | 'deny' | 'require_approval';

/** What a `GovernanceDecided` from a standing ruling records in place of the request (ADR 41). */
export interface StandingRulingApplied {
  readonly decidedBy: string;
  readonly attempt: number;
  readonly inputDigest: string;
}
/**
 * A standing allow carried on the dispatch it allowed (ADR 43): the whole governance check of that attempt, recorded
 * in the event that sends it. `decidedBy` is the governance instance whose ruling it is; `inputDigest` is the digest of
 * the input it allowed, which is the dispatch's own input.
 */
export interface DispatchRuling {
  readonly policyId: string | null;
  readonly reason: string;
  readonly decidedBy: string;
  readonly inputDigest: string;
}
/**
 * Set only on a deny no policy took: governance could not evaluate the request at all (Cedar refused it). The step
 * fails with this code and the run waits for an operator, whatever `onFailure` says: the same request would fail
 * the same way, so only an operator (an edited input, a skip) can move it on.
 */
export type GovernanceDecisionCode = 'GOVERNANCE.UNEVALUABLE';

export interface StepError {
  readonly code: string;
  readonly message: string;
  readonly retryable: boolean;
  readonly details?: Readonly<Record<string, unknown>>;
}

/** One attempt's usage, as a worker reports it with its outcome (see usage.ts). */
export interface Usage {
  readonly model?: string;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly cost?: { readonly amount: number; readonly currency: string };
}
type Used = { readonly usage?: Usage };

type Msg<T extends string, D> = { readonly type: T; readonly data: D; readonly metadata: CommandMetadata };
type Report = { readonly stepId: string; readonly attempt: number; readonly phase: Phase };
type OperatorData = { readonly reason?: string };

/**
 * `tenant`: whose run it is (default `default`); reads and operator actions are scoped by it.
 * `governEveryStep`: governance rules on every task step, whatever the definition flags as a side effect; the
 * runtime sets it whenever governance is configured, so a definition cannot opt a step out of the policies.
 */
export interface StartRunData {
  readonly runId: string;
  readonly definition: CompiledDefinition;
  readonly input: unknown;
  readonly idempotencyKey?: string;
  readonly tenant?: string;
  readonly governEveryStep?: boolean;
  /** Set on a fork: the run starts from its parent's state at a revision (see fork.ts). */
  readonly forkedFrom?: RunFork;
  /** Overrides the definition's budget for this run. */
  readonly budget?: Budget;
  /** Set on a child run: the parent run and its workflow step that started it (see child-runs.ts). */
  readonly parent?: ParentLink;
}

/** A child run's parent: the run and its workflow step, how deep the child is (a top-level run is 0), its close policy. */
export interface ParentLink {
  readonly runId: string;
  readonly stepId: string;
  readonly depth: number;
  readonly closePolicy: ParentClosePolicy;
}

/** How a child run ended, as its parent is told; `not_started` when it could not start (its definition, its input). */
export type ChildOutcomeStatus = 'completed' | 'failed' | 'cancelled' | 'compensated' | 'not_started';

/** A child run's outcome, for the parent step that waits for it (or for its compensation). */
export interface ChildOutcome {
  readonly stepId: string;
  readonly childRunId: string;
  readonly status: ChildOutcomeStatus;
  /** A completed child's output: its steps' outputs by step id. */
  readonly output?: unknown;
  /** Why it did not complete: its failure, or why it did not start. */
  readonly error?: StepError;
}

/** A step a fork starts with already done: its parent's outcome, which it does not run again. */
export type ForkedStep =
  | { readonly status: 'completed'; readonly output: unknown }
  | { readonly status: 'skipped'; readonly kind: SkipKind; readonly output: unknown };

/**
 * Where a forked run comes from: its parent run, the revision of the parent's history it starts from, why, and the
 * steps done by then (with their outputs), which start done in the fork.
 */
export interface RunFork {
  readonly runId: string;
  readonly revision: number;
  readonly reason: string | null;
  readonly steps: Readonly<Record<string, ForkedStep>>;
}

export type Command =
  | Msg<'StartRun', StartRunData>
  | Msg<'RecordStepStarted', Report>
  | Msg<'RecordStepHeartbeat', Report>
  | Msg<'RecordStepCompleted', Report & Used & { readonly output: unknown }>
  | Msg<'RecordStepFailed', Report & Used & { readonly error: StepError }>
  /** `inputDigest`: of the input the decision is about; a decision about another input than the one asked is ignored. */
  | Msg<
      'RecordGovernanceDecision',
      {
        readonly stepId: string;
        readonly outcome: GovernanceOutcome;
        readonly policyId: string | null;
        readonly reason: string;
        readonly code?: GovernanceDecisionCode;
        readonly inputDigest: string;
      }
    >
  | Msg<'FireTimer', { readonly timerId: string }>
  /** An event from outside, for the steps of the run waiting for its name and key (see event-waits.ts). */
  | Msg<'DeliverEvent', ExternalEventData>
  /** A child run ended (or could not start): the parent's workflow step takes its outcome (see child-runs.ts). */
  | Msg<'RecordChildOutcome', ChildOutcome>
  /** The parent of this completed child run compensates the step that started it: this run compensates too. */
  | Msg<'CompensateForParent', OperatorData>
  | Msg<'HoldStep', Report & Waits & { readonly reason: HoldReason; readonly worker: string }>
  | Msg<'ReleaseStep', Report>
  /** The lock table broke a cycle of waits by failing this held attempt, the youngest waiter in it (step-locks.ts). */
  | Msg<
      'FailLockWait',
      Report & { readonly code: 'LOCK.DEADLOCK'; readonly message: string; readonly cycle: readonly string[] }
    >
  | Msg<'Approve', OperatorData & { readonly stepId: string }>
  | Msg<'Reject', OperatorData & { readonly stepId: string }>
  | Msg<'Pause', OperatorData>
  | Msg<'Resume', OperatorData>
  | Msg<'RetryStep', OperatorData & { readonly stepId: string; readonly input?: unknown }>
  | Msg<'SkipStep', OperatorData & { readonly stepId: string; readonly output: unknown }>
  | Msg<'Compensate', OperatorData>
  | Msg<'Cancel', OperatorData>
  | Msg<'Redrive', OperatorData & { readonly stepId: string; readonly input?: unknown }>
  | Msg<'RaiseBudget', OperatorData & { readonly budget: Budget }>;

export type CommandType = Command['type'];
export type OperatorCommandType = Extract<
  CommandType,
  | 'Approve'
  | 'Reject'
  | 'Pause'
  | 'Resume'
  | 'RetryStep'
  | 'SkipStep'
  | 'Compensate'
  | 'Cancel'
  | 'Redrive'
  | 'RaiseBudget'
>;

/** An event from outside: its name, the key it is correlated by, its producer's id (duplicates are ignored), its payload. */
export interface ExternalEventData {
  readonly name: string;
  readonly key: string;
  readonly eventId: string;
  readonly payload: unknown;
}

export type TimerKind =
  'attempt_timeout' | 'heartbeat_timeout' | 'retry' | 'approval_timeout' | 'governance_timeout' | 'event_timeout';
export interface Timer {
  readonly id: string;
  readonly kind: TimerKind;
  readonly stepId: string;
  readonly attempt: number;
  readonly phase: Phase;
  readonly dueAt: number;
}

type Ev<T extends string, D> = { readonly type: T; readonly data: D };
type By = { readonly by: string; readonly reason: string | null };

/** `timeout`: an event step whose event did not come in time, and whose `onTimeout` is `skip`. */
export type SkipKind = 'condition' | 'upstream' | 'operator' | 'timeout';

/** `tenant` and `governEveryStep` are absent from runs recorded before they existed: `default` and false. */
export interface RunStartedData {
  readonly runId: string;
  readonly definition: CompiledDefinition;
  readonly input: unknown;
  readonly idempotencyKey: string | null;
  readonly startedBy: string;
  readonly at: number;
  readonly tenant?: string;
  readonly governEveryStep?: boolean;
  /** Only on a fork's start. */
  readonly forkedFrom?: RunFork;
  /** Only when the start set one: it overrides the definition's. */
  readonly budget?: Budget;
  /** Only on a child run's start. */
  readonly parent?: ParentLink;
}

type ChildRef = { readonly stepId: string; readonly childRunId: string; readonly at: number };

export type WorkflowEvent =
  | Ev<'RunStarted', RunStartedData>
  /** `inputDigest` is absent from checks recorded before it existed: evolve computes it from `input`. */
  | Ev<
      'GovernanceCheckRequested',
      {
        readonly stepId: string;
        readonly worker: string;
        readonly action: string | null;
        readonly input: unknown;
        readonly inputDigest?: string;
        /**
         * The attempt the ruling is for and when governance's deadline passes (ADR 39): folding the event arms the
         * `governance_timeout` timer. Absent on requests recorded before, which have a TimerScheduled after them.
         */
        readonly attempt?: number;
        readonly timeoutAt?: number;
        readonly at: number;
      }
    >
  /** `code` is absent on ordinary rulings (and on every decision recorded before it existed). */
  | Ev<
      'GovernanceDecided',
      {
        readonly stepId: string;
        readonly outcome: GovernanceOutcome;
        readonly policyId: string | null;
        readonly reason: string;
        readonly code?: GovernanceDecisionCode;
        /**
         * Set when the decider applied a standing ruling (ADR 41): no request was recorded or sent, and this is the
         * whole check. The attempt and input digest are what the request would have carried; `decidedBy` is the
         * governance instance whose ruling it is.
         */
        readonly standing?: StandingRulingApplied;
        readonly at: number;
      }
    >
  | Ev<
      'ApprovalRequested',
      {
        readonly stepId: string;
        readonly cause: 'approval_step' | 'governance';
        readonly assignees: readonly string[];
        readonly message: string;
        readonly at: number;
      }
    >
  /**
   * An approval step's timeout passed and it declares `escalateTo`: the gate is assigned to those as well (`to`), and
   * a new deadline is armed; only when that one passes does `onTimeout` apply.
   */
  | Ev<
      'ApprovalEscalated',
      { readonly stepId: string; readonly to: readonly string[]; readonly message: string; readonly at: number }
    >
  /** An event step began waiting for an event named `event` carrying `key` (its `match`, evaluated). */
  | Ev<
      'EventWaitStarted',
      {
        readonly stepId: string;
        readonly event: string;
        readonly key: string;
        readonly timeoutAt: number | null;
        readonly at: number;
      }
    >
  /** The event it waited for came; a StepCompleted with its payload as output follows. */
  | Ev<
      'ExternalEventReceived',
      {
        readonly stepId: string;
        readonly event: string;
        readonly key: string;
        readonly eventId: string;
        readonly payload: unknown;
        readonly at: number;
      }
    >
  /** It did not come in time: what `onTimeout` says follows (a failure, a skip, or an operator told). */
  | Ev<
      'EventWaitTimedOut',
      { readonly stepId: string; readonly event: string; readonly key: string; readonly at: number }
    >
  /** A workflow step starts its child run (the id is derived from the run, the step and the attempt: see child-runs.ts). */
  | Ev<
      'ChildRunRequested',
      ChildRef & {
        readonly attempt: number;
        readonly definitionId: string;
        readonly version: number | null;
        readonly input: unknown;
        readonly parentClosePolicy: ParentClosePolicy;
        readonly depth: number;
      }
    >
  /** The child ended (or did not start); the step's completion, failure or compensation follows. */
  | Ev<'ChildRunEnded', ChildRef & { readonly phase: Phase; readonly status: ChildOutcomeStatus }>
  /** The parent stopped waiting for a child still going (a cancel, a failure, a compensation): what its policy does. */
  | Ev<'ChildRunClosed', ChildRef & { readonly policy: ParentClosePolicy }>
  /** The parent compensates a completed workflow step: its child run compensates. */
  | Ev<'ChildCompensationRequested', ChildRef & { readonly attempt: number }>
  | Ev<'StepApproved', By & { readonly stepId: string; readonly at: number }>
  | Ev<'StepRejected', By & { readonly stepId: string; readonly at: number }>
  /** Folding it arms the attempt's timeout, when `timeoutAt` is set (timerArmedBy in event-builders.ts). */
  | Ev<
      'StepDispatched',
      {
        readonly stepId: string;
        readonly attempt: number;
        readonly phase: Phase;
        readonly worker: string;
        readonly action: string | null;
        readonly input: unknown;
        readonly idempotencyKey: string;
        readonly timeoutAt: number | null;
        /** The locks the attempt takes before it is sent; present only on a step that declares some. */
        readonly locks?: readonly LockClaim[];
        /** The standing governance allow this attempt went out under, when one covered it (ADR 43). */
        readonly ruling?: DispatchRuling;
        readonly at: number;
      }
    >
  /** The runtime could not send the attempt; its timers are disarmed until it is released. */
  | Ev<'StepHeld', Report & Waits & { readonly reason: HoldReason; readonly worker: string; readonly at: number }>
  /**
   * The attempt may go out now, with fresh timers (folding it arms a timeout due at `timeoutAt`). It carries what
   * `StepDispatched` carries, so the runtime can send the command from this event alone; `send: false` when a
   * worker's report showed it already has the attempt.
   */
  | Ev<
      'StepReleased',
      Report & {
        readonly worker: string;
        readonly action: string | null;
        readonly input: unknown;
        readonly idempotencyKey: string;
        readonly timeoutAt: number | null;
        readonly locks?: readonly LockClaim[];
        readonly send: boolean;
        readonly at: number;
      }
    >
  | Ev<'StepStarted', Report & { readonly at: number }>
  | Ev<'StepHeartbeat', Report & { readonly at: number }>
  | Ev<'StepAttemptFailed', Report & Used & { readonly error: StepError; readonly at: number }>
  /** Folding it arms the retry timer of `nextAttempt`, due at `retryAt`. */
  | Ev<
      'StepRetryScheduled',
      { readonly stepId: string; readonly phase: Phase; readonly nextAttempt: number; readonly retryAt: number }
    >
  | Ev<
      'StepCompleted',
      Used & { readonly stepId: string; readonly attempt: number; readonly output: unknown; readonly at: number }
    >
  | Ev<
      'StepFailed',
      { readonly stepId: string; readonly attempt: number; readonly error: StepError; readonly at: number }
    >
  | Ev<
      'StepSkipped',
      {
        readonly stepId: string;
        readonly kind: SkipKind;
        readonly output: unknown;
        readonly by: string | null;
        readonly reason: string | null;
        readonly at: number;
        /** An operator's skip: what the step was when it was skipped (its status and failure), for the record. */
        readonly replaced?: { readonly status: string; readonly error: StepError | null };
      }
    >
  | Ev<
      'CompensationCompleted',
      Used & { readonly stepId: string; readonly attempt: number; readonly output: unknown; readonly at: number }
    >
  | Ev<
      'CompensationFailed',
      { readonly stepId: string; readonly attempt: number; readonly error: StepError; readonly at: number }
    >
  | Ev<'CompensationSkipped', By & { readonly stepId: string; readonly at: number }>
  /**
   * Arms a timer that no other event of the decision arms. Before ADR 38 one also followed each `StepDispatched`,
   * `StepReleased` and `StepRetryScheduled`, with the timer they now arm themselves: folding it again changes nothing.
   */
  | Ev<'TimerScheduled', { readonly timer: Timer }>
  | Ev<'TimerFired', { readonly timerId: string; readonly at: number }>
  | Ev<
      'OperatorRetried',
      By & {
        readonly stepId: string;
        readonly phase: Phase;
        readonly input: unknown;
        readonly at: number;
        /** With an edited input: the input of the last attempt, which it replaced. */
        readonly replacedInput?: unknown;
      }
    >
  | Ev<'RunPaused', By & { readonly at: number }>
  | Ev<'RunResumed', By & { readonly at: number }>
  | Ev<
      'RunNeedsOperator',
      { readonly code: string; readonly message: string; readonly stepId: string | null; readonly at: number }
    >
  | Ev<'CompensationStarted', { readonly cause: string; readonly by: string | null; readonly at: number }>
  | Ev<'RunCompleted', { readonly at: number }>
  | Ev<'RunFailed', { readonly stepId: string | null; readonly error: StepError; readonly at: number }>
  | Ev<'RunCompensated', { readonly compensated: readonly string[]; readonly at: number }>
  | Ev<'RunCancelled', By & { readonly at: number }>
  | Ev<'RunReset', RunResetData>
  /** An operator set a new budget (`previous`: the one it replaced, null for none). */
  | Ev<'BudgetRaised', By & { readonly budget: Budget; readonly previous: Budget | null; readonly at: number }>;

/**
 * An operator re-opened an ended run at a step (`Redrive`): that step, every step downstream of it and every step
 * the ending cut short go back to pending, in the same stream; nothing earlier is rewritten.
 */
export interface RunResetData {
  readonly fromStepId: string;
  /** Every step that runs again, in definition order. */
  readonly steps: readonly string[];
  /** The input the first step runs with; undefined to render it from the definition again. */
  readonly input?: unknown;
  /** What the reset replaced: the run's status and failure, and the first step's last input. */
  readonly replaced: {
    readonly status: 'failed' | 'compensated' | 'cancelled';
    readonly failure: { readonly stepId: string | null; readonly error: StepError } | null;
    readonly input: unknown;
  };
  /** Steps kept, whose compensation already undid them: they stay undone, and are not undone twice. */
  readonly stillUndone: readonly string[];
  readonly by: string;
  readonly reason: string | null;
  readonly at: number;
}

export type WorkflowEventType = WorkflowEvent['type'];
