/** Thrown by a handler: the step fails for good, whatever its retry policy says. */
export class TerminalError extends Error {
  readonly code: string;
  readonly retryable = false;
  constructor(message: string, code = 'STEP.TERMINAL') {
    super(message);
    this.name = 'TerminalError';
    this.code = code;
  }
}

/** Thrown by a handler: the attempt failed, and the orchestrator may try again after backoff. Any other error means the same. */
export class RetryableError extends Error {
  readonly code: string;
  readonly retryable = true;
  constructor(message: string, code = 'STEP.RETRYABLE') {
    super(message);
    this.name = 'RetryableError';
    this.code = code;
  }
}

/** Why an attempt's signal aborted: its deadline passed, or the worker is shutting down past its grace period. */
export type CancelCause = 'deadline' | 'shutdown';

/**
 * The `reason` of an attempt's aborted `signal`. Timers and fetches that take the signal reject with it, so a
 * handler that lets it propagate needs no code of its own: a deadline becomes a retryable `STEP.DEADLINE_EXCEEDED`
 * failure, and a shutdown is not reported at all (the orchestrator's attempt timeout takes over).
 */
export class AttemptCancelledError extends Error {
  readonly kind: CancelCause;
  readonly code: string;
  readonly retryable = true;
  constructor(kind: CancelCause, message: string) {
    super(message);
    this.name = 'AttemptCancelledError';
    this.kind = kind;
    this.code = kind === 'deadline' ? 'STEP.DEADLINE_EXCEEDED' : 'WORKER.SHUTDOWN';
  }
}
