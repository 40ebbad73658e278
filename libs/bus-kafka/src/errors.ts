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

/** Client error codes that mean "the broker could not be reached or did not answer in time". */
const TRANSIENT_CLIENT_CODES = new Set([
  'PLT_KFK_NETWORK',
  'PLT_KFK_TIMEOUT',
  'PLT_KFK_UNFINISHED_WRITE_BUFFER',
  'PLT_KFK_UNEXPECTED_CORRELATION_ID',
]);

/** Translates whatever the client threw into a KafkaBusError; `what` names the operation for the message. */
export function translateKafkaError(
  error: unknown,
  what: string,
  failureCode: 'BUS.UNAVAILABLE' | 'BUS.PUBLISH_FAILED',
): KafkaBusError {
  if (error instanceof KafkaBusError) return error;
  const detail = describeError(error);
  if (isTransient(error))
    return new KafkaBusError('BUS.UNAVAILABLE', `${what}: Kafka is unavailable (${detail})`, { cause: error });
  return new KafkaBusError(failureCode, `${what}: ${detail}`, { cause: error });
}

function isTransient(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error instanceof MultipleErrors)
    return error.errors.length > 0 && error.errors.every((inner) => isTransient(inner));
  if (error instanceof GenericError) {
    if (TRANSIENT_CLIENT_CODES.has(error.code)) return true;
    // A broker-side error the protocol marks retryable (leader moving, not enough replicas yet, ...).
    if (error.code === 'PLT_KFK_PROTOCOL') return error['canRetry'] === true;
  }
  return isTransient(error.cause);
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
