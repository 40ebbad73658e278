/** The one place error codes become HTTP statuses. */
const STATUS_BY_CODE: Readonly<Record<string, number>> = {
  'REQUEST.INVALID': 400,
  'DEFINITION.INVALID': 400,
  'RUN.INPUT_INVALID': 400,
  'COMMAND.INVALID': 400,
  'EXPRESSION.INVALID': 400,
  'EXPRESSION.BUDGET_EXCEEDED': 400,
  'AUTH.UNAUTHENTICATED': 401,
  'AUTH.FORBIDDEN': 403,
  'RUN.NOT_FOUND': 404,
  'STEP.NOT_FOUND': 404,
  'DEFINITION.NOT_FOUND': 404,
  'ROUTE.NOT_FOUND': 404,
  'REQUEST.TOO_LARGE': 413,
  'REQUEST.UNSUPPORTED_MEDIA_TYPE': 415,
  'RUN.ALREADY_EXISTS': 409,
  'RUN.ALREADY_TERMINAL': 409,
  'RUN.NOT_RUNNING': 409,
  'RUN.NOT_PAUSED': 409,
  'RUN.NOTHING_TO_COMPENSATE': 409,
  'STEP.ALREADY_TERMINAL': 409,
  'STEP.NOT_AWAITING_APPROVAL': 409,
  'STEP.NOT_FAILED': 409,
  'STEP.NOT_RETRYABLE_NOW': 409,
  'DEFINITION.VERSION_CONFLICT': 409,
  'KEY.NOT_FOUND': 404,
  'KEY.NOT_REVOCABLE': 409,
  'KEY.STORE_MISSING': 409,
  'STORE.EXPECTED_VERSION_CONFLICT': 503,
  'ORCHESTRATOR.PENDING': 503,
  'STORE.UNAVAILABLE': 503,
};

export interface ApiError {
  readonly code: string;
  readonly message: string;
  readonly retryable: boolean;
  readonly details?: Readonly<Record<string, unknown>>;
}

export class RequestError extends Error {
  readonly code: string;
  readonly retryable = false;
  readonly details: Record<string, unknown>;
  constructor(code: string, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = 'RequestError';
    this.code = code;
    this.details = details;
  }
}

export function statusFor(code: string): number {
  return STATUS_BY_CODE[code] ?? 500;
}

/** Known errors keep their code; anything else is an internal error whose detail stays in the log. */
export function toApiError(error: unknown): ApiError {
  if (error !== null && typeof error === 'object' && typeof (error as { code?: unknown }).code === 'string' && (error as { code: string }).code in STATUS_BY_CODE) {
    const e = error as { code: string; message?: string; retryable?: boolean; details?: Record<string, unknown>; issues?: unknown };
    const details = { ...(e.details ?? {}), ...(e.issues !== undefined ? { issues: e.issues } : {}) };
    return { code: e.code, message: e.message ?? e.code, retryable: e.retryable ?? statusFor(e.code) >= 500, ...(Object.keys(details).length > 0 ? { details } : {}) };
  }
  return { code: 'INTERNAL', message: 'internal error; see the server log', retryable: true };
}
