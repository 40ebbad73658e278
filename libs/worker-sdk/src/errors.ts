import { OrchestronError } from '@orchestron/errors';

/*
 * A handler names its own codes ('CARD.DECLINED'): they are the workflow's, recorded as data in the step's
 * failure, and never reach the HTTP edge's statuses, so these two take any string, not only an ErrorCode.
 */

/** Thrown by a handler: the step fails for good, whatever its retry policy says. */
export class TerminalError extends OrchestronError<string> {
  constructor(message: string, code = 'STEP.TERMINAL') {
    super(code, message, { retryable: false });
    this.name = 'TerminalError';
  }
}

/** Thrown by a handler: the attempt failed, and the orchestrator may try again after backoff. Any other error means the same. */
export class RetryableError extends OrchestronError<string> {
  constructor(message: string, code = 'STEP.RETRYABLE') {
    super(code, message, { retryable: true });
    this.name = 'RetryableError';
  }
}

/** Why an attempt's signal aborted: its deadline passed, or the worker is shutting down past its grace period. */
export type CancelCause = 'deadline' | 'shutdown';

/**
 * The `reason` of an attempt's aborted `signal`. Timers and fetches that take the signal reject with it, so a
 * handler that lets it propagate needs no code of its own: a deadline becomes a retryable `STEP.DEADLINE_EXCEEDED`
 * failure, and a shutdown is not reported at all (the orchestrator's attempt timeout takes over).
 */
export class AttemptCancelledError extends OrchestronError<'STEP.DEADLINE_EXCEEDED' | 'WORKER.SHUTDOWN'> {
  readonly kind: CancelCause;
  constructor(kind: CancelCause, message: string) {
    super(kind === 'deadline' ? 'STEP.DEADLINE_EXCEEDED' : 'WORKER.SHUTDOWN', message);
    this.name = 'AttemptCancelledError';
    this.kind = kind;
  }
}
