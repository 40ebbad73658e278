// Pure translations between the EventStore port and KurrentDB's client types. No I/O: unit-testable without a server.
import { createHash } from 'node:crypto';
import { EventStoreUnavailableError, ExpectedVersionConflictError } from '@orchestron/event-store';
import type { ExpectedRevision } from '@orchestron/event-store';
import { ANY, NO_STREAM, STREAM_EXISTS } from '@kurrent/kurrentdb-client';
import type { AppendStreamState, CurrentStreamState, Position } from '@kurrent/kurrentdb-client';

/** Metadata key holding the caller's event id when it is not a UUID and a derived UUID went to KurrentDB instead. */
export const ORIGINAL_ID_KEY = 'orchestronEventId';

const MAX_POSITION = BigInt(Number.MAX_SAFE_INTEGER);
const CANONICAL_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Fixed namespace, so one id always derives the same UUID, in every process and release. */
const ID_NAMESPACE = 'orchestron:event-id:v1:';

export function toKurrentStreamState(expected: ExpectedRevision): AppendStreamState {
  if (typeof expected === 'number') return BigInt(expected);
  switch (expected) {
    case 'any':
      return ANY;
    case 'no_stream':
      return NO_STREAM;
    case 'stream_exists':
      return STREAM_EXISTS;
    default: {
      const unreachable: never = expected;
      throw new TypeError(`unknown expected revision ${String(unreachable)}`);
    }
  }
}

/** A stream revision (bigint) as the port's number; revisions past 2^53 cannot be represented and fail loudly. */
export function fromKurrentRevision(revision: bigint): number {
  if (revision < 0n || revision > MAX_POSITION) {
    throw new EventStoreUnavailableError(
      `KurrentDB returned stream revision ${revision}, outside the port's safe integer range`,
    );
  }
  return Number(revision);
}

/** KurrentDB's current stream state as the port's `actual`: null for a missing stream. */
export function fromCurrentStreamState(state: CurrentStreamState): number | null {
  return state === NO_STREAM ? null : fromKurrentRevision(state);
}

/**
 * Our global `position` is KurrentDB's commit position as a number. It grows strictly along $all but is a byte
 * offset into the transaction log, so it is NOT dense. A log would need 8 PiB before it left Number's exact range;
 * if it ever does (or the server sends the "no position" sentinel 2^64-1) this throws instead of rounding.
 */
export function positionToNumber(position: Position | undefined, what: string): number {
  if (position === undefined)
    throw new EventStoreUnavailableError(`KurrentDB did not report the $all position of ${what}`);
  const { commit } = position;
  if (commit < 1n || commit > MAX_POSITION) {
    throw new EventStoreUnavailableError(
      `KurrentDB reported commit position ${commit} for ${what}: not representable as a port position (1..2^53-1)`,
    );
  }
  return Number(commit);
}

/**
 * The KurrentDB position to start from for an exclusive port position. Reads from $all are inclusive, so callers
 * still drop events at or before `after`; subscriptions are exclusive already. 0 means the start of the log.
 */
export function readPositionAfter(after: number): Position | 'start' {
  if (after === 0) return 'start';
  const at = BigInt(after);
  return { commit: at, prepare: at };
}

/** The id to give KurrentDB, which only accepts UUIDs, and the caller's id to keep in metadata when they differ. */
export function toKurrentEventId(id: string): { readonly uuid: string; readonly original: string | undefined } {
  if (CANONICAL_UUID.test(id)) return { uuid: id, original: undefined };
  return { uuid: deriveUuid(id), original: id };
}

/** UUIDv5-shaped (version and variant bits set) from SHA-256 of a fixed namespace and the id. Deterministic. */
export function deriveUuid(id: string): string {
  const bytes = createHash('sha256').update(ID_NAMESPACE).update(id, 'utf8').digest().subarray(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x50;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Metadata as written: the caller's, plus the original id when a UUID had to be derived. */
export function toKurrentMetadata(
  metadata: Readonly<Record<string, unknown>>,
  original: string | undefined,
  field: string,
): Record<string, unknown> {
  if (Object.hasOwn(metadata, ORIGINAL_ID_KEY))
    throw new TypeError(`${field}.metadata must not use the reserved key '${ORIGINAL_ID_KEY}'`);
  return original === undefined ? { ...metadata } : { ...metadata, [ORIGINAL_ID_KEY]: original };
}

/** Splits what KurrentDB returns into the port's id and metadata, undoing `toKurrentMetadata`. */
export function fromKurrentMetadata(
  uuid: string,
  raw: unknown,
): { readonly id: string; readonly metadata: Record<string, unknown> } {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw) || raw instanceof Uint8Array)
    return { id: uuid, metadata: {} };
  const { [ORIGINAL_ID_KEY]: original, ...metadata } = raw as Record<string, unknown>;
  return { id: typeof original === 'string' && original !== '' ? original : uuid, metadata };
}

interface VendorErrorFields {
  readonly type?: unknown;
  readonly code?: unknown;
  readonly message?: unknown;
  readonly actualState?: unknown;
}

/**
 * The only place a KurrentDB client error is looked at. Duck-typed on the client's `type` tag, not `instanceof`,
 * because under Jest's VM modules the client may come from another realm. A wrong expected version becomes the
 * port's conflict; everything else (refused connection, deadline, not leader, server error) means the backend
 * failed the call.
 */
export function translateKurrentError(
  error: unknown,
  action: string,
  conflict?: { readonly streamId: string; readonly expected: ExpectedRevision },
): Error {
  if (error instanceof ExpectedVersionConflictError || error instanceof EventStoreUnavailableError) return error;
  const fields = (error ?? {}) as VendorErrorFields;
  if (fields.type === 'wrong-expected-version' && conflict !== undefined) {
    const actual = fields.actualState;
    const current = actual === NO_STREAM ? null : typeof actual === 'bigint' ? fromKurrentRevision(actual) : null;
    return new ExpectedVersionConflictError(conflict.streamId, conflict.expected, current);
  }
  const tag =
    typeof fields.type === 'string' ? fields.type : fields.code !== undefined ? String(fields.code) : undefined;
  const message = typeof fields.message === 'string' && fields.message !== '' ? fields.message : String(error);
  return new EventStoreUnavailableError(
    `kurrentdb event store could not ${action}${tag === undefined ? '' : ` (${tag})`}: ${message}`,
    { cause: error },
  );
}

/** True for the client's "stream not found" error, which the port turns into [] or null. */
export function isStreamNotFound(error: unknown): boolean {
  return (error as VendorErrorFields | null)?.type === 'stream-not-found';
}

/** System events ($-prefixed types, or anything in a $-prefixed stream) never cross the port. */
export function isSystemEvent(streamName: string, type: string): boolean {
  return streamName.startsWith('$') || type.startsWith('$');
}
