import { OrchestronError } from '@orchestron/errors';
import type { Issue } from './api.types.ts';

/**
 * Everything the CLI can fail with. Each has a stable code; `exit-codes.ts` decides what the process
 * exits with, so nothing else in the CLI needs to know the numbers.
 */

/**
 * The server answered with a non-2xx status and (usually) an `{ error }` body. Its code and `retryable` are the
 * server's word, relayed: a code from a newer server, INTERNAL, or `HTTP.<status>` for an answer without a body
 * (api.client.ts) is not an ErrorCode, and never needs one (exit-codes.ts goes by the status).
 */
export class ApiError extends OrchestronError<string> {
  readonly httpStatus: number;
  readonly url: string;
  constructor(args: {
    httpStatus: number;
    code: string;
    message: string;
    retryable: boolean;
    details: Readonly<Record<string, unknown>> | null;
    url: string;
  }) {
    super(args.code, args.message, {
      retryable: args.retryable,
      ...(args.details === null ? {} : { details: args.details }),
    });
    this.name = 'ApiError';
    this.httpStatus = args.httpStatus;
    this.url = args.url;
  }

  /** Validation errors carry every problem in `details.issues`. */
  get issues(): readonly Issue[] {
    const issues = this.details?.['issues'];
    return Array.isArray(issues) ? issues.filter(isIssue) : [];
  }
}

/** No usable answer: connection refused, DNS failure, no response in time, or a body that is not JSON. */
export class ServerUnreachableError extends OrchestronError<'CLI.SERVER_UNREACHABLE'> {
  readonly baseUrl: string;
  constructor(baseUrl: string, reason: string) {
    super(
      'CLI.SERVER_UNREACHABLE',
      `cannot reach the Orchestron server at ${baseUrl} (${reason}). Is it running? Start it with \`npm start\`, or point the CLI elsewhere with --url or ORCHESTRON_URL.`,
    );
    this.name = 'ServerUnreachableError';
    this.baseUrl = baseUrl;
  }
}

/** No Kafka broker answered the CLI's direct requests (`orchestron dlq`). */
export class KafkaUnreachableError extends OrchestronError<'CLI.KAFKA_UNREACHABLE'> {
  readonly brokers: readonly string[];
  constructor(brokers: readonly string[], reason: string) {
    super(
      'CLI.KAFKA_UNREACHABLE',
      `cannot reach Kafka at ${brokers.join(',')} (${reason}). Is it running? Start the local broker with \`npm run kafka:start\`, or point the CLI elsewhere with --brokers or ORCHESTRON_KAFKA_BROKERS.`,
    );
    this.name = 'KafkaUnreachableError';
    this.brokers = brokers;
  }
}

/** The command line itself is wrong: a bad option value, unreadable file, JSON that does not parse. */
export class UsageError extends OrchestronError<'CLI.USAGE'> {
  constructor(message: string) {
    super('CLI.USAGE', message);
    this.name = 'UsageError';
  }
}

/** A definition checked on this machine (parse or compile) has problems. */
export class LocalDefinitionError extends OrchestronError<'DEFINITION.INVALID'> {
  readonly issues: readonly Issue[];
  constructor(source: string, issues: readonly Issue[]) {
    super('DEFINITION.INVALID', `${source} is invalid (${issues.length} problem${issues.length === 1 ? '' : 's'})`);
    this.name = 'LocalDefinitionError';
    this.issues = issues;
  }
}

/** `run --wait --timeout` ran out; the run itself carries on on the server. */
export class WaitTimeoutError extends OrchestronError<'CLI.WAIT_TIMEOUT'> {
  readonly runId: string;
  readonly status: string;
  constructor(runId: string, seconds: number, status: string) {
    super(
      'CLI.WAIT_TIMEOUT',
      `gave up waiting after ${seconds}s: run ${runId} is still ${status}. It carries on on the server; follow it with \`orchestron status ${runId}\`.`,
    );
    this.name = 'WaitTimeoutError';
    this.runId = runId;
    this.status = status;
  }
}

export type CliError =
  ApiError | ServerUnreachableError | KafkaUnreachableError | UsageError | LocalDefinitionError | WaitTimeoutError;

export function isCliError(error: unknown): error is CliError {
  return (
    error instanceof ApiError ||
    error instanceof ServerUnreachableError ||
    error instanceof KafkaUnreachableError ||
    error instanceof UsageError ||
    error instanceof LocalDefinitionError ||
    error instanceof WaitTimeoutError
  );
}

function isIssue(value: unknown): value is Issue {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Issue).path === 'string' &&
    typeof (value as Issue).message === 'string'
  );
}
