import { OrchestronError } from '@orchestron/errors';
import type { ExpectedRevision } from './event-store.port.ts';

/**
 * The stream was not at the expected revision. Retryable: re-read the stream, decide again, append again.
 */
export class ExpectedVersionConflictError extends OrchestronError<'STORE.EXPECTED_VERSION_CONFLICT'> {
  readonly streamId: string;
  readonly expected: ExpectedRevision;
  readonly actual: number | null;

  constructor(streamId: string, expected: ExpectedRevision, actual: number | null) {
    super(
      'STORE.EXPECTED_VERSION_CONFLICT',
      `stream '${streamId}' expected revision ${String(expected)} but is at ${actual === null ? 'no_stream' : String(actual)}`,
    );
    this.name = 'ExpectedVersionConflictError';
    this.streamId = streamId;
    this.expected = expected;
    this.actual = actual;
  }
}

/** The store was closed. Terminal for this instance: open a new one. */
export class EventStoreClosedError extends OrchestronError<'STORE.CLOSED'> {
  constructor() {
    super('STORE.CLOSED', 'event store is closed');
    this.name = 'EventStoreClosedError';
  }
}

/**
 * The backend failed (I/O error, disk full, database locked). Nothing of the failed call was recorded,
 * so retrying it is safe. The vendor error is kept as `cause` and never crosses the port as such.
 */
export class EventStoreUnavailableError extends OrchestronError<'STORE.UNAVAILABLE'> {
  constructor(message: string, options?: { readonly cause?: unknown }) {
    super('STORE.UNAVAILABLE', message, options?.cause === undefined ? {} : { cause: options.cause });
    this.name = 'EventStoreUnavailableError';
  }
}

/**
 * A stored checkpoint is not what was saved under its name (altered, truncated, or copied from another name).
 * Terminal: loading it again fails the same way. The caller starts over from the log, and its next save replaces it.
 */
export class CheckpointCorruptError extends OrchestronError<'STORE.CHECKPOINT_CORRUPT'> {
  readonly checkpoint: string;

  constructor(name: string, reason: string) {
    super('STORE.CHECKPOINT_CORRUPT', `checkpoint '${name}' is corrupt: ${reason}`, { details: { checkpoint: name } });
    this.name = 'CheckpointCorruptError';
    this.checkpoint = name;
  }
}

export type EventStoreError =
  ExpectedVersionConflictError | EventStoreClosedError | EventStoreUnavailableError | CheckpointCorruptError;
export type EventStoreErrorCode = EventStoreError['code'];
