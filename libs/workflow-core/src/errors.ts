import { OrchestronError } from '@orchestron/errors';

/** Every error the core raises has a stable code; HTTP and the CLI map codes in one place. */
export type DomainErrorCode =
  | 'RUN.NOT_FOUND'
  | 'RUN.ALREADY_EXISTS'
  | 'RUN.ALREADY_TERMINAL'
  | 'RUN.NOT_RUNNING'
  | 'RUN.NOT_PAUSED'
  | 'RUN.INPUT_INVALID'
  | 'RUN.NOTHING_TO_COMPENSATE'
  | 'RUN.NOT_ENDED'
  | 'RUN.NOT_REDRIVABLE'
  | 'STEP.NOT_FOUND'
  | 'STEP.ALREADY_TERMINAL'
  | 'STEP.NOT_AWAITING_APPROVAL'
  | 'STEP.NOT_FAILED'
  | 'STEP.NOT_RETRYABLE_NOW'
  | 'COMMAND.INVALID'
  | 'SCHEDULE.NOT_FOUND'
  | 'SCHEDULE.ALREADY_EXISTS'
  | 'SCHEDULE.INVALID'
  | 'SCHEDULE.LIMIT_REACHED';

/** Domain errors never succeed by repeating the same command unchanged: every DomainErrorCode is terminal. */
export class DomainError extends OrchestronError<DomainErrorCode> {
  declare readonly details: Readonly<Record<string, unknown>>;
  constructor(code: DomainErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(code, message, { details });
    this.name = 'DomainError';
  }
}

/** Codes carried by failed steps (in events, not thrown). */
export const StepErrorCodes = {
  timedOut: 'STEP.TIMED_OUT',
  heartbeatTimedOut: 'STEP.HEARTBEAT_TIMED_OUT',
  joinUnsatisfied: 'JOIN.UNSATISFIED',
  expression: 'EXPRESSION.ERROR',
  /** An input mapping or condition went over its evaluation budget (operations, string or list size). */
  expressionBudgetExceeded: 'EXPRESSION.BUDGET_EXCEEDED',
  governanceDenied: 'GOVERNANCE.DENIED',
  approvalRejected: 'APPROVAL.REJECTED',
  approvalTimedOut: 'APPROVAL.TIMED_OUT',
  /** An event step's event did not come within its timeout (a step failure, or the run's attention code on escalate). */
  eventTimedOut: 'EVENT.TIMED_OUT',
  /** A run's attention code (not a step failure): governance missed its deadline, and the step still waits. */
  governanceUnavailable: 'GOVERNANCE.UNAVAILABLE',
  /** A step failure and the run's attention code: governance could not evaluate the request, so the step did not run. */
  governanceUnevaluable: 'GOVERNANCE.UNEVALUABLE',
  /** A workflow step's child run failed, was cancelled or compensated itself (details: the child and its failure). */
  childFailed: 'CHILD.FAILED',
  /** A workflow step's child could not start: its definition is not in the tenant, or its input does not fit. */
  childNotStarted: 'CHILD.NOT_STARTED',
  /** A workflow step would start a child deeper than MAX_CHILD_DEPTH: a definition that starts itself, in a cycle. */
  childDepthExceeded: 'CHILD.DEPTH_EXCEEDED',
  /** A step waited for a lock in a cycle of waits, and was the youngest waiter in it (details: the cycle). */
  lockDeadlock: 'LOCK.DEADLOCK',
} as const;
