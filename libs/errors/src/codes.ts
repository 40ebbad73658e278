/**
 * What the runtime does with a failure: `retryable` means the same call may succeed later (a store or broker
 * briefly away, a conflict to re-read), `terminal` means it fails the same way until something changes.
 */
export type RetryClass = 'retryable' | 'terminal';

/**
 * Every code a thrown Orchestron error can carry, and its retry class. The list is the closed set the HTTP edge
 * must give a status (`Record<ErrorCode, number>` there), so a code added here without one fails the typecheck.
 *
 * Not here, on purpose:
 * - codes recorded in events as data (`StepErrorCodes` in workflow-core: `STEP.TIMED_OUT`, `JOIN.UNSATISFIED`,
 *   `GOVERNANCE.DENIED`, ...; `STEP.FAILED`, `RUN.FAILED`, `WORKER.*` failures a worker reports): no error
 *   class throws them, and nothing maps them to a status;
 * - codes a step handler chooses (`new TerminalError('card declined', 'CARD.DECLINED')`): they belong to the
 *   workflow's authors, and travel as data in step failures;
 * - codes the CLI relays from a server answer (`ApiError`), including `HTTP.<status>` for an answer without one.
 */
export const ERROR_CODES = {
  // workflow-core (DomainError): a command the run's state refuses. Repeating it unchanged fails the same way.
  'RUN.NOT_FOUND': 'terminal',
  'RUN.ALREADY_EXISTS': 'terminal',
  'RUN.ALREADY_TERMINAL': 'terminal',
  'RUN.NOT_RUNNING': 'terminal',
  'RUN.NOT_PAUSED': 'terminal',
  'RUN.INPUT_INVALID': 'terminal',
  'RUN.NOTHING_TO_COMPENSATE': 'terminal',
  'RUN.NOT_ENDED': 'terminal',
  'RUN.NOT_REDRIVABLE': 'terminal',
  'STEP.NOT_FOUND': 'terminal',
  'STEP.ALREADY_TERMINAL': 'terminal',
  'STEP.NOT_AWAITING_APPROVAL': 'terminal',
  'STEP.NOT_FAILED': 'terminal',
  'STEP.NOT_RETRYABLE_NOW': 'terminal',
  'COMMAND.INVALID': 'terminal',
  // workflow-core: the schedule decider refuses a command
  'SCHEDULE.NOT_FOUND': 'terminal',
  'SCHEDULE.ALREADY_EXISTS': 'terminal',
  'SCHEDULE.INVALID': 'terminal',
  'SCHEDULE.LIMIT_REACHED': 'terminal',
  // definitions
  'DEFINITION.INVALID': 'terminal',
  'EXPRESSION.INVALID': 'terminal',
  'EXPRESSION.BUDGET_EXCEEDED': 'terminal',
  'JSON.INVALID': 'terminal',
  // policy
  'POLICY.INVALID': 'terminal',
  'GOVERNANCE.UNEVALUABLE': 'terminal',
  // event-store port (every adapter translates its vendor's errors into these)
  'STORE.EXPECTED_VERSION_CONFLICT': 'retryable',
  'STORE.UNAVAILABLE': 'retryable',
  'STORE.CLOSED': 'terminal',
  'STORE.CHECKPOINT_CORRUPT': 'terminal',
  // bus
  'WIRE.INVALID': 'terminal',
  'BUS.UNAVAILABLE': 'retryable',
  'BUS.PUBLISH_FAILED': 'terminal',
  'BUS.CLOSED': 'terminal',
  // worker-sdk: the defaults of TerminalError and RetryableError, and why an attempt's signal aborted
  'STEP.TERMINAL': 'terminal',
  'STEP.RETRYABLE': 'retryable',
  'STEP.DEADLINE_EXCEEDED': 'retryable',
  'WORKER.SHUTDOWN': 'retryable',
  // runtime
  'DEFINITION.NOT_FOUND': 'terminal',
  'DEFINITION.VERSION_CONFLICT': 'terminal',
  'ORCHESTRATOR.PENDING': 'retryable',
  'SERVER.BUSY': 'retryable',
  // server: API keys and the HTTP edge's own refusals
  'KEY.NOT_FOUND': 'terminal',
  'EVENT.NOT_FOUND': 'terminal',
  'AUDIT.NOT_READY': 'retryable',
  'AUDIT.UNAVAILABLE': 'terminal',
  'DLQ.NOT_FOUND': 'terminal',
  'DLQ.NOT_REPLAYABLE': 'terminal',
  'DLQ.UNAVAILABLE': 'terminal',
  'KEY.NOT_REVOCABLE': 'terminal',
  'KEY.STORE_MISSING': 'terminal',
  'REQUEST.INVALID': 'terminal',
  'REQUEST.TOO_LARGE': 'terminal',
  'REQUEST.UNSUPPORTED_MEDIA_TYPE': 'terminal',
  'ROUTE.NOT_FOUND': 'terminal',
  'AUTH.UNAUTHENTICATED': 'terminal',
  'AUTH.FORBIDDEN': 'terminal',
  // A key holds as many event streams open as it may: another opens once one of them closes.
  'STREAM.TOO_MANY': 'terminal',
  // cli
  'CLI.USAGE': 'terminal',
  'CLI.SERVER_UNREACHABLE': 'retryable',
  'CLI.KAFKA_UNREACHABLE': 'retryable',
  'CLI.WAIT_TIMEOUT': 'retryable',
} as const satisfies Readonly<Record<string, RetryClass>>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Every ErrorCode, for code that must cover them all at runtime (tests, docs). */
export const ALL_ERROR_CODES = Object.freeze(Object.keys(ERROR_CODES)) as readonly ErrorCode[];

export function isErrorCode(value: string): value is ErrorCode {
  return Object.hasOwn(ERROR_CODES, value);
}

export function retryClassOf(code: ErrorCode): RetryClass {
  return ERROR_CODES[code];
}
