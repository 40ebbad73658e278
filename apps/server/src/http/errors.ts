import { isErrorCode, OrchestronError } from '@orchestron/errors';
import type { ErrorCode } from '@orchestron/errors';
import type { AgentContract } from './agent-contract.ts';

/**
 * A code that only a bug or a misconfiguration brings to the HTTP edge (a bus message's format, policy text,
 * the store closed under a request during shutdown): answered as INTERNAL, with its detail only in the log.
 */
const NOT_AN_API_ERROR = 500;

/**
 * The one place error codes become HTTP statuses. Total over ErrorCode, so a new code without a status fails the
 * typecheck. A retryable code is a 503 and a 503 is retryable (errors.spec.ts checks both ways): a dependency
 * that is briefly away, or a conflict to re-read, is never a 500.
 */
const STATUS_BY_CODE = {
  'REQUEST.INVALID': 400,
  'DEFINITION.INVALID': 400,
  'RUN.INPUT_INVALID': 400,
  'COMMAND.INVALID': 400,
  'SCHEDULE.INVALID': 400,
  'EXPRESSION.INVALID': 400,
  'EXPRESSION.BUDGET_EXCEEDED': 400,
  'AUTH.UNAUTHENTICATED': 401,
  'AUTH.FORBIDDEN': 403,
  'RUN.NOT_FOUND': 404,
  'STEP.NOT_FOUND': 404,
  'DEFINITION.NOT_FOUND': 404,
  'ROUTE.NOT_FOUND': 404,
  'KEY.NOT_FOUND': 404,
  'EVENT.NOT_FOUND': 404,
  'SCHEDULE.NOT_FOUND': 404,
  'AUDIT.UNAVAILABLE': 409,
  'DLQ.NOT_FOUND': 404,
  'DLQ.NOT_REPLAYABLE': 409,
  'DLQ.UNAVAILABLE': 409,
  'REQUEST.TOO_LARGE': 413,
  'REQUEST.UNSUPPORTED_MEDIA_TYPE': 415,
  'STREAM.TOO_MANY': 429,
  'RUN.ALREADY_EXISTS': 409,
  'SCHEDULE.ALREADY_EXISTS': 409,
  'SCHEDULE.LIMIT_REACHED': 409,
  'RUN.ALREADY_TERMINAL': 409,
  'RUN.NOT_RUNNING': 409,
  'RUN.NOT_PAUSED': 409,
  'RUN.NOTHING_TO_COMPENSATE': 409,
  'RUN.NOT_ENDED': 409,
  'RUN.NOT_REDRIVABLE': 409,
  'STEP.ALREADY_TERMINAL': 409,
  'STEP.NOT_AWAITING_APPROVAL': 409,
  'STEP.NOT_FAILED': 409,
  'STEP.NOT_RETRYABLE_NOW': 409,
  'DEFINITION.VERSION_CONFLICT': 409,
  'KEY.NOT_REVOCABLE': 409,
  'KEY.STORE_MISSING': 409,
  'STORE.EXPECTED_VERSION_CONFLICT': 503,
  'STORE.UNAVAILABLE': 503,
  'BUS.UNAVAILABLE': 503,
  'ORCHESTRATOR.PENDING': 503,
  'SERVER.BUSY': 503,
  'AUDIT.NOT_READY': 503,
  // Raised only in workers and the CLI; if one ever reached the edge it would still mean "try again later".
  'STEP.RETRYABLE': 503,
  'STEP.DEADLINE_EXCEEDED': 503,
  'WORKER.SHUTDOWN': 503,
  'CLI.SERVER_UNREACHABLE': 503,
  'CLI.KAFKA_UNREACHABLE': 503,
  'CLI.WAIT_TIMEOUT': 503,
  // The edges turn JSON.INVALID into REQUEST.INVALID (HTTP) or WIRE.INVALID (bus) before anyone sees it.
  'JSON.INVALID': NOT_AN_API_ERROR,
  'WIRE.INVALID': NOT_AN_API_ERROR,
  'POLICY.INVALID': NOT_AN_API_ERROR,
  // Governance records it as a fail-closed decision; it is never a request's own failure.
  'GOVERNANCE.UNEVALUABLE': NOT_AN_API_ERROR,
  'STORE.CLOSED': NOT_AN_API_ERROR,
  // A read model that meets one starts over from the log; no request fails with it.
  'STORE.CHECKPOINT_CORRUPT': NOT_AN_API_ERROR,
  'BUS.CLOSED': NOT_AN_API_ERROR,
  // A record Kafka refuses, from input the edge already accepted: the server's configuration, not the caller's fault.
  'BUS.PUBLISH_FAILED': NOT_AN_API_ERROR,
  'STEP.TERMINAL': NOT_AN_API_ERROR,
  'CLI.USAGE': NOT_AN_API_ERROR,
} as const satisfies Readonly<Record<ErrorCode, number>>;

/** What an answer can carry: an ErrorCode that is an API error, or INTERNAL for everything else. */
export type ApiErrorCode = ErrorCode | 'INTERNAL';

export interface ApiError {
  readonly code: ApiErrorCode;
  readonly message: string;
  readonly retryable: boolean;
  readonly details?: Readonly<Record<string, unknown>>;
}

/** The HTTP edge's own refusals (and a few domain codes it decides itself, like RUN.NOT_FOUND for another tenant's run). */
export class RequestError extends OrchestronError {
  declare readonly details: Readonly<Record<string, unknown>>;
  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(code, message, { details });
    this.name = 'RequestError';
  }
}

/**
 * A command the run's state refused (a 409), answered with what the run allows now instead of a generic hint, so an
 * agent that acted on a stale view learns the current choices from the refusal itself.
 */
export class StateRefusal extends OrchestronError {
  declare readonly details: Readonly<Record<string, unknown>>;
  readonly contract: AgentContract;
  constructor(refused: OrchestronError, contract: AgentContract) {
    super(refused.code, refused.message, { details: refused.details ?? {}, cause: refused });
    this.name = 'StateRefusal';
    this.contract = contract;
  }
}

/** A refusal of the run's state, as against bad input, a missing thing or an outage. */
export function isStateRefusal(error: unknown): error is OrchestronError {
  return error instanceof OrchestronError && isErrorCode(error.code) && STATUS_BY_CODE[error.code] === 409;
}

export function statusFor(code: ApiErrorCode): number {
  return code === 'INTERNAL' ? 500 : STATUS_BY_CODE[code];
}

/** A dependency that is away (a broker or database restart takes seconds), as against a conflict or a busy moment. */
const OUTAGES: ReadonlySet<ApiErrorCode> = new Set<ApiErrorCode>(['STORE.UNAVAILABLE', 'BUS.UNAVAILABLE']);

/** The `Retry-After` of a 503, in seconds: every 503 has one, no other answer does. */
export function retryAfterSeconds(code: ApiErrorCode): number | undefined {
  if (statusFor(code) !== 503) return undefined;
  return OUTAGES.has(code) ? 5 : 1;
}

const INTERNAL: ApiError = { code: 'INTERNAL', message: 'internal error; see the server log', retryable: true };

/** Known errors keep their code; anything else is an internal error whose detail stays in the log. */
export function toApiError(error: unknown): ApiError {
  // `instanceof` gives OrchestronError<any>: a worker's or a relayed code is not an ErrorCode, hence isErrorCode.
  if (!(error instanceof OrchestronError) || !isErrorCode(error.code)) return INTERNAL;
  const code: ErrorCode = error.code;
  if (STATUS_BY_CODE[code] === NOT_AN_API_ERROR) return INTERNAL;
  const details = error.details ?? {};
  return {
    code,
    message: error.message,
    retryable: error.retryable,
    ...(Object.keys(details).length > 0 ? { details: { ...details } } : {}),
  };
}
