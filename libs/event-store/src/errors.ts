import type { ExpectedRevision } from './event-store.port.ts';

/**
 * The stream was not at the expected revision. Retryable: re-read the stream, decide again, append again.
 */
export class ExpectedVersionConflictError extends Error {
  readonly code = 'STORE.EXPECTED_VERSION_CONFLICT';
  readonly retryable = true;
  readonly streamId: string;
  readonly expected: ExpectedRevision;
  readonly actual: number | null;

  constructor(streamId: string, expected: ExpectedRevision, actual: number | null) {
    super(`stream '${streamId}' expected revision ${String(expected)} but is at ${actual === null ? 'no_stream' : String(actual)}`);
    this.name = 'ExpectedVersionConflictError';
    this.streamId = streamId;
    this.expected = expected;
    this.actual = actual;
  }
}

/** The store was closed. Terminal for this instance: open a new one. */
export class EventStoreClosedError extends Error {
  readonly code = 'STORE.CLOSED';
  readonly retryable = false;

  constructor() {
    super('event store is closed');
    this.name = 'EventStoreClosedError';
  }
}

/**
 * The backend failed (I/O error, disk full, database locked). Nothing of the failed call was recorded,
 * so retrying it is safe. The vendor error is kept as `cause` and never crosses the port as such.
 */
export class EventStoreUnavailableError extends Error {
  readonly code = 'STORE.UNAVAILABLE';
  readonly retryable = true;

  constructor(message: string, options?: { readonly cause?: unknown }) {
    super(message, options);
    this.name = 'EventStoreUnavailableError';
  }
}

export type EventStoreError = ExpectedVersionConflictError | EventStoreClosedError | EventStoreUnavailableError;
export type EventStoreErrorCode = EventStoreError['code'];
