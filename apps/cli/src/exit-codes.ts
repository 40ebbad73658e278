import {
  ApiError,
  KafkaUnreachableError,
  LocalDefinitionError,
  ServerUnreachableError,
  UsageError,
  WaitTimeoutError,
} from './cli.errors.ts';
import type { RunStatus } from './api.types.ts';

/** The only numbers the CLI exits with. Scripts and agents branch on these, so they never change meaning. */
export const ExitCode = {
  OK: 0,
  RUN_FAILED: 1,
  BAD_INPUT: 2,
  NEEDS_OPERATOR: 3,
  UNAVAILABLE: 4,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** What a command ended with, before it becomes a number. */
export type Outcome =
  | { readonly kind: 'succeeded' }
  | { readonly kind: 'run'; readonly status: RunStatus }
  | { readonly kind: 'waiting_for_human' }
  /** `worker-check` found the worker breaking the contract in at least one scenario. */
  | { readonly kind: 'check_failed' }
  | { readonly kind: 'usage_error' }
  | { readonly kind: 'api_error'; readonly httpStatus: number; readonly code: string }
  | { readonly kind: 'unreachable' }
  | { readonly kind: 'timed_out' }
  | { readonly kind: 'internal_error' };

/** Codes that always mean "change what you sent", whatever status the server put them on. */
const BAD_INPUT_CODES: ReadonlySet<string> = new Set([
  'DEFINITION.INVALID',
  'RUN.INPUT_INVALID',
  'REQUEST.INVALID',
  'COMMAND.INVALID',
]);

export function exitCodeFor(outcome: Outcome): ExitCode {
  switch (outcome.kind) {
    case 'succeeded':
      return ExitCode.OK;
    case 'run':
      return exitCodeForRunStatus(outcome.status);
    case 'waiting_for_human':
      return ExitCode.NEEDS_OPERATOR;
    case 'check_failed':
      return ExitCode.RUN_FAILED;
    case 'usage_error':
      return ExitCode.BAD_INPUT;
    case 'api_error':
      if (BAD_INPUT_CODES.has(outcome.code)) return ExitCode.BAD_INPUT;
      // 4xx (including 401/403 auth, 404 unknown run or step, 409 conflicts) means retrying the same
      // command will not help: the caller must change it. 5xx and anything odd is the server's problem.
      if (outcome.httpStatus >= 400 && outcome.httpStatus < 500) return ExitCode.BAD_INPUT;
      return ExitCode.UNAVAILABLE;
    // A bug in the CLI (internal_error) is neither the caller's input nor the run's result.
    case 'unreachable':
    case 'timed_out':
    case 'internal_error':
      return ExitCode.UNAVAILABLE;
    default:
      return assertNever(outcome);
  }
}

/** A run that is still moving is not an outcome yet, so it exits 0. */
function exitCodeForRunStatus(status: RunStatus): ExitCode {
  switch (status) {
    case 'completed':
      return ExitCode.OK;
    case 'failed':
    case 'compensated':
    case 'cancelled':
      return ExitCode.RUN_FAILED;
    case 'needs_operator':
      return ExitCode.NEEDS_OPERATOR;
    case 'running':
    case 'paused':
    case 'compensating':
      return ExitCode.OK;
    default:
      return unknownRunStatus(status);
  }
}

/** The outcome of a command that failed with `error`. */
export function outcomeOfError(error: unknown): Outcome {
  if (error instanceof ApiError) return { kind: 'api_error', httpStatus: error.httpStatus, code: error.code };
  if (error instanceof ServerUnreachableError || error instanceof KafkaUnreachableError) return { kind: 'unreachable' };
  if (error instanceof WaitTimeoutError) return { kind: 'timed_out' };
  if (error instanceof UsageError || error instanceof LocalDefinitionError) return { kind: 'usage_error' };
  return { kind: 'internal_error' };
}

/** A status from a newer server: the CLI cannot say what it means, so it does not claim success. */
function unknownRunStatus(_status: never): ExitCode {
  return ExitCode.UNAVAILABLE;
}

function assertNever(value: never): never {
  throw new Error(`unhandled outcome: ${JSON.stringify(value)}`);
}
