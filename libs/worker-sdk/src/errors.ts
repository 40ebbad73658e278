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

/** Thrown by a handler: the attempt failed, and the orchestrator may try again after backoff. */
export class RetryableError extends Error {
  readonly code: string;
  readonly retryable = true;
  constructor(message: string, code = 'STEP.RETRYABLE') {
    super(message);
    this.name = 'RetryableError';
    this.code = code;
  }
}
