import { OrchestronError } from '@orchestron/errors';
import { findErrorBy, GenericError, MultipleErrors } from '@platformatic/kafka';

export type KafkaBusErrorCode = 'BUS.UNAVAILABLE' | 'BUS.PUBLISH_FAILED' | 'BUS.CLOSED';

/**
 * What the Kafka bus throws; no client error crosses the port (it is kept as `cause`). The code decides
 * `retryable`: BUS.UNAVAILABLE (broker unreachable, leader moving, timed out) is worth retrying, and a retried
 * publish may duplicate what the failed one already wrote; BUS.PUBLISH_FAILED (a value that does not encode,
 * a record the broker refuses) and BUS.CLOSED are not.
 */
export class KafkaBusError extends OrchestronError<KafkaBusErrorCode> {
  constructor(code: KafkaBusErrorCode, message: string, options: { readonly cause?: unknown } = {}) {
    super(code, message, options.cause === undefined ? {} : { cause: options.cause });
    this.name = 'KafkaBusError';
  }
}

/**
 * Client errors that mean "the broker could not be reached or did not answer in time". A TimeoutError carries the
 * network code too.
 */
const TRANSIENT_CLIENT_CODES = new Set([
  'PLT_KFK_NETWORK',
  'PLT_KFK_TIMEOUT',
  'PLT_KFK_UNFINISHED_WRITE_BUFFER',
  'PLT_KFK_UNEXPECTED_CORRELATION_ID',
]);

/** Client errors that fail the same way on every try: our configuration or the call itself is wrong. */
const REFUSING_CLIENT_CODES = new Set([
  'PLT_KFK_AUTHENTICATION',
  'PLT_KFK_USER',
  'PLT_KFK_UNSUPPORTED',
  'PLT_KFK_UNSUPPORTED_API',
  'PLT_KFK_UNSUPPORTED_COMPRESSION',
]);

/**
 * Broker answers that refuse the request itself (the record, the topic, our credentials or protocol): retrying it
 * unchanged cannot help. Every other broker answer is the broker not being ready, whatever its retry flag says:
 * during a restart a broker answers BROKER_NOT_AVAILABLE or UNKNOWN_SERVER_ERROR (not retriable for the client)
 * for a while, and that is an outage, never the caller's fault.
 */
const REFUSING_BROKER_ANSWERS = new Set([
  'MESSAGE_TOO_LARGE',
  'RECORD_LIST_TOO_LARGE',
  'INVALID_RECORD',
  'CORRUPT_MESSAGE',
  'INVALID_TIMESTAMP',
  'INVALID_REQUIRED_ACKS',
  'INVALID_TOPIC_EXCEPTION',
  'INVALID_REQUEST',
  'INVALID_CONFIG',
  'INVALID_PARTITIONS',
  'INVALID_REPLICATION_FACTOR',
  'POLICY_VIOLATION',
  'TOPIC_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
  'GROUP_AUTHORIZATION_FAILED',
  'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
  'SASL_AUTHENTICATION_FAILED',
  'UNSUPPORTED_SASL_MECHANISM',
  'UNSUPPORTED_VERSION',
  'UNSUPPORTED_FOR_MESSAGE_FORMAT',
  'UNSUPPORTED_COMPRESSION_TYPE',
]);

type Verdict = 'refused' | 'transient' | 'unknown';

/**
 * Translates whatever the client threw into a KafkaBusError; `what` names the operation for the message. The
 * vendor's errors stop here: a broker that is away, restarting or not ready is BUS.UNAVAILABLE (retryable, a 503 at
 * the HTTP edge), and `failureCode` is kept for what refuses the call itself, or for what we cannot tell.
 */
export function translateKafkaError(
  error: unknown,
  what: string,
  failureCode: 'BUS.UNAVAILABLE' | 'BUS.PUBLISH_FAILED',
): KafkaBusError {
  if (error instanceof KafkaBusError) return error;
  const detail = describeError(error);
  if (verdictOf(error) === 'transient')
    return new KafkaBusError('BUS.UNAVAILABLE', `${what}: Kafka is unavailable (${detail})`, { cause: error });
  return new KafkaBusError(failureCode, `${what}: ${detail}`, { cause: error });
}

/**
 * A chain of errors (the client's retries are a MultipleErrors of every attempt) is refused if any part of it is,
 * else transient if any part is: one attempt that met a closed port and another that met a broker still loading
 * are both the broker not being there.
 */
function verdictOf(error: unknown): Verdict {
  if (!(error instanceof Error)) return 'unknown';
  const parts: Verdict[] = [ownVerdict(error)];
  if (error instanceof MultipleErrors) parts.push(...error.errors.map((inner) => verdictOf(inner)));
  if (error.cause !== undefined) parts.push(verdictOf(error.cause));
  if (parts.includes('refused')) return 'refused';
  return parts.includes('transient') ? 'transient' : 'unknown';
}

function ownVerdict(error: Error): Verdict {
  if (!(error instanceof GenericError) || error instanceof MultipleErrors) return 'unknown';
  if (TRANSIENT_CLIENT_CODES.has(error.code)) return 'transient';
  if (REFUSING_CLIENT_CODES.has(error.code)) return 'refused';
  if (error.code !== 'PLT_KFK_PROTOCOL') return 'unknown';
  const answer = error['apiId'];
  return typeof answer === 'string' && REFUSING_BROKER_ANSWERS.has(answer) ? 'refused' : 'transient';
}

export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const inner =
    error instanceof MultipleErrors && error.errors.length > 0
      ? ` [${error.errors.map((e) => describeError(e)).join('; ')}]`
      : '';
  return `${error.message}${inner}`;
}

/** Whether the client says the thing already exists (topic creation is idempotent for us). */
export function isAlreadyExists(error: unknown): boolean {
  return error instanceof Error && findErrorBy(error, 'apiId', 'TOPIC_ALREADY_EXISTS') !== null;
}
