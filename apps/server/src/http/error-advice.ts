import { ALL_ERROR_CODES } from '@orchestron/errors';
import type { ErrorCode } from '@orchestron/errors';
import { statusFor } from './errors.ts';
import type { ApiErrorCode } from './errors.ts';

const SEE_RUN = 'the run is not in a state for this: get_run, then take one of its agent_contract.next_actions';

/**
 * What a caller does on each code, for the discovery document. Total over ErrorCode, so a new code without advice
 * fails the typecheck; the codes the API never answers with (statusFor 500) are left out of the document.
 */
const ADVICE = {
  'RUN.NOT_FOUND': "no such run in your tenant: check the id, or list_runs (another tenant's run is not found too)",
  'RUN.ALREADY_EXISTS': 'this idempotencyKey started a run with another input: reuse its input, or pick a new key',
  'RUN.ALREADY_TERMINAL': SEE_RUN,
  'RUN.NOT_RUNNING': SEE_RUN,
  'RUN.NOT_PAUSED': SEE_RUN,
  'RUN.INPUT_INVALID': "fix the input at error.details' path to match the definition's input schema, then start again",
  'RUN.NOTHING_TO_COMPENSATE': 'no completed step has a compensation: cancel the run instead',
  'RUN.NOT_ENDED': 're-drive is for ended runs: retry, skip, resume or cancel this one (see next_actions)',
  'RUN.NOT_REDRIVABLE': 'read error.message: fork a completed run, or re-drive from the step it names',
  'STEP.NOT_FOUND': 'no such step in the run: describe_definition lists the step ids',
  'STEP.ALREADY_TERMINAL': SEE_RUN,
  'STEP.NOT_AWAITING_APPROVAL': 'the gate is decided or not open yet: get_run shows which steps wait for approval',
  'STEP.NOT_FAILED': 'only a failed step is retried or skipped: get_run shows which step needs attention',
  'STEP.NOT_RETRYABLE_NOW': SEE_RUN,
  'COMMAND.INVALID': 'fix the field error.details names (e.g. input on an approval gate) and send again',
  'SCHEDULE.NOT_FOUND':
    'no such schedule in your tenant: GET /v1/schedules lists the ids (another tenant’s is not found too)',
  'SCHEDULE.ALREADY_EXISTS': 'a schedule with this id exists in your tenant: pick another id, or delete it first',
  'SCHEDULE.LIMIT_REACHED': 'the tenant has as many schedules as it may: delete one it no longer needs',
  'SCHEDULE.INVALID': 'fix the field error.details names (cron, timezone, overlap, catchUp, maxCatchUp) and send again',
  'DEFINITION.INVALID': 'fix each problem at its path in error.details; validate_definition checks without registering',
  'EXPRESSION.INVALID': 'fix the ${{ }} expression at its path; docs/definitions.md lists what expressions may use',
  'EXPRESSION.BUDGET_EXCEEDED': 'the expression or its input is over a budget (error.details names it): simplify it',
  'JSON.INVALID': 'send well-formed JSON',
  'POLICY.INVALID': 'an operator must fix the governance policies: not the caller’s to solve',
  'GOVERNANCE.UNEVALUABLE': 'governance could not decide and refused (fail-closed): ask an operator',
  'STORE.EXPECTED_VERSION_CONFLICT': 'someone changed the run at the same moment: repeat the call after Retry-After',
  'STORE.UNAVAILABLE': 'the store is briefly away: repeat the same call after Retry-After; a start keeps its key',
  'STORE.CLOSED': 'the server is shutting down: repeat the call on another instance or after a restart',
  'STORE.CHECKPOINT_CORRUPT': 'an operator rebuilds the read models (orchestron projections rebuild)',
  'WIRE.INVALID': 'a message on the bus is malformed: it went to the dead-letter topic with the reason',
  'BUS.UNAVAILABLE': 'the broker is briefly away: repeat the same call after Retry-After; a start keeps its key',
  'BUS.PUBLISH_FAILED': 'the broker refused a record: an operator checks its configuration',
  'BUS.CLOSED': 'the server is shutting down: repeat the call after a restart',
  'STEP.TERMINAL': 'a worker failed the step for good: the run follows its onFailure; see get_run',
  'STEP.RETRYABLE': 'a worker failed the step for now: the runtime retries it by its retry policy',
  'STEP.DEADLINE_EXCEEDED': 'the step ran past its timeout: the runtime retries it by its retry policy',
  'WORKER.SHUTDOWN': 'the worker stopped mid-step: the runtime retries it elsewhere',
  'DEFINITION.NOT_FOUND': 'no such definition (or version) in your tenant: list_definitions shows what there is',
  'DEFINITION.VERSION_CONFLICT': 'this version exists with other content: register it as a new version',
  'ORCHESTRATOR.PENDING': 'no orchestrator answered yet: repeat the same call after Retry-After',
  'STREAM.TOO_MANY': 'this key holds its most event streams already: close one you no longer read, then open again',
  'SERVER.BUSY': 'too many open waits or streams: repeat after Retry-After, or poll less often',
  'KEY.NOT_FOUND': 'no such key: GET /v1/keys lists them',
  'EVENT.NOT_FOUND': 'no such event in your tenant: the history or the audit search shows the ids',
  'AUDIT.NOT_READY': 'no checkpoint covers it yet: repeat after Retry-After (checkpoints are signed each second)',
  'AUDIT.UNAVAILABLE': 'this store keeps no audit log (e.g. KurrentDB): use PostgreSQL or the embedded store',
  'DLQ.NOT_FOUND': 'no such dead letter for your key: GET /v1/dead-letters lists the positions it may replay',
  'DLQ.NOT_REPLAYABLE':
    'the original was not kept, or is not JSON: replay it byte for byte with `orchestron dlq replay` on the Kafka tier',
  'DLQ.UNAVAILABLE': 'this server follows no dead-letter topic: use `orchestron dlq list` against Kafka',
  'KEY.NOT_REVOCABLE': 'keys from ORCHESTRON_API_KEYS are revoked by changing that setting and restarting',
  'KEY.STORE_MISSING': 'this server issues no keys: configure keys with ORCHESTRON_API_KEYS',
  'REQUEST.INVALID': 'fix the field error.details names (GET /v1/openapi.json has every constraint) and send again',
  'REQUEST.TOO_LARGE': 'the body is over the limit in error.details: send less (large data belongs in your storage)',
  'REQUEST.UNSUPPORTED_MEDIA_TYPE': 'send Content-Type: application/json',
  'ROUTE.NOT_FOUND': 'no such route: GET /v1/openapi.json lists them',
  'AUTH.UNAUTHENTICATED': 'send Authorization: Bearer <key>; a revoked or expired key needs replacing by an admin',
  'AUTH.FORBIDDEN': 'your key’s role (or group) may not do this: do not retry; ask a person with the right key',
  'CLI.USAGE': 'fix the command line: orchestron <command> --help',
  'CLI.SERVER_UNREACHABLE': 'start the server, or point --url / ORCHESTRON_URL at it',
  'CLI.KAFKA_UNREACHABLE': 'start Kafka, or point --brokers at it',
  'CLI.WAIT_TIMEOUT': 'the run is still going: wait again, or look at it with orchestron status',
} as const satisfies Readonly<Record<ErrorCode, string>>;

export interface ErrorEntry {
  readonly code: ApiErrorCode;
  readonly status: number;
  readonly retryable: boolean;
  readonly advice: string;
}

/** Every code the API may answer with, its status, whether the same call may succeed later, and what to do. */
export function errorCatalogue(): ErrorEntry[] {
  const entries: ErrorEntry[] = ALL_ERROR_CODES.filter((code) => statusFor(code) !== 500).map((code) => ({
    code,
    status: statusFor(code),
    retryable: statusFor(code) === 503,
    advice: ADVICE[code],
  }));
  entries.push({
    code: 'INTERNAL',
    status: 500,
    retryable: true,
    advice: 'a bug on our side, logged with the request: repeat once, then report it with the time of the call',
  });
  return entries;
}
