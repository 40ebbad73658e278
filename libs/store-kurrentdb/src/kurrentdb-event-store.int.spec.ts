import { randomUUID } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import {
  ANY,
  NO_STREAM,
  STREAM_EXISTS,
  StreamNotFoundError,
  UnavailableError,
  WrongExpectedVersionError,
} from '@kurrent/kurrentdb-client';
import {
  EventStoreClosedError,
  EventStoreUnavailableError,
  ExpectedVersionConflictError,
} from '@orchestron/event-store';
import { describeEventStoreConformance } from '@orchestron/event-store/testing';
import { createKurrentDbEventStore } from './index.ts';
import {
  deriveUuid,
  fromCurrentStreamState,
  fromKurrentMetadata,
  fromKurrentRevision,
  isStreamNotFound,
  isSystemEvent,
  ORIGINAL_ID_KEY,
  positionToNumber,
  readPositionAfter,
  toKurrentEventId,
  toKurrentMetadata,
  toKurrentStreamState,
  translateKurrentError,
} from './kurrentdb-mapping.ts';

/** e.g. kurrentdb://127.0.0.1:2113?tls=false; without it only the server-free tests below run. */
const ESDB_URL = process.env['ORCHESTRON_ESDB_URL'];

/** Nothing listens on port 1: a real refused connection, not a fake server. */
const UNREACHABLE = 'kurrentdb://127.0.0.1:1?tls=false&maxDiscoverAttempts=1&discoveryInterval=10';
const UUID_V5_SHAPE = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('kurrentdb mapping (no server needed)', () => {
  it('maps every expected revision onto a KurrentDB stream state', () => {
    expect(toKurrentStreamState('any')).toBe(ANY);
    expect(toKurrentStreamState('no_stream')).toBe(NO_STREAM);
    expect(toKurrentStreamState('stream_exists')).toBe(STREAM_EXISTS);
    expect(toKurrentStreamState(0)).toBe(0n);
    expect(toKurrentStreamState(41)).toBe(41n);
  });

  it('maps bigint revisions and stream states back to numbers, refusing what a number cannot hold', () => {
    expect(fromKurrentRevision(0n)).toBe(0);
    expect(fromKurrentRevision(9n)).toBe(9);
    expect(fromCurrentStreamState(NO_STREAM)).toBeNull();
    expect(fromCurrentStreamState(3n)).toBe(3);
    expect(() => fromKurrentRevision(2n ** 53n)).toThrow(EventStoreUnavailableError);
  });

  it('takes the commit position as the port position, and throws rather than round past 2^53 or accept the sentinel', () => {
    expect(positionToNumber({ commit: 1234n, prepare: 1234n }, 'e')).toBe(1234);
    expect(positionToNumber({ commit: 2n ** 53n - 1n, prepare: 0n }, 'e')).toBe(Number.MAX_SAFE_INTEGER);
    expect(() => positionToNumber({ commit: 2n ** 53n, prepare: 2n ** 53n }, 'e')).toThrow(/not representable/);
    expect(() => positionToNumber({ commit: 2n ** 64n - 1n, prepare: 2n ** 64n - 1n }, 'e')).toThrow(
      EventStoreUnavailableError,
    );
    expect(() => positionToNumber({ commit: 0n, prepare: 0n }, 'e')).toThrow(EventStoreUnavailableError);
    expect(() => positionToNumber(undefined, 'the append')).toThrow(/did not report the \$all position of the append/);
  });

  it('starts $all reads at the start for 0, and at the commit/prepare pair of the position otherwise', () => {
    expect(readPositionAfter(0)).toBe('start');
    expect(readPositionAfter(4096)).toEqual({ commit: 4096n, prepare: 4096n });
  });

  it('passes canonical UUIDs through and derives a stable UUIDv5-shaped id for anything else', () => {
    const uuid = randomUUID();
    expect(toKurrentEventId(uuid)).toEqual({ uuid, original: undefined });
    const derived = toKurrentEventId('evt-given');
    expect(derived.original).toBe('evt-given');
    expect(derived.uuid).toMatch(UUID_V5_SHAPE);
    expect(deriveUuid('evt-given')).toBe(derived.uuid);
    expect(deriveUuid('evt-other')).not.toBe(derived.uuid);
    // Upper case is not how KurrentDB returns a UUID, so it is kept as the original too.
    expect(toKurrentEventId(uuid.toUpperCase()).original).toBe(uuid.toUpperCase());
  });

  it('keeps the original id in metadata on the way in and restores it, and the metadata, on the way out', () => {
    const written = toKurrentMetadata({ actor: 'u-1' }, 'evt-given', 'events[0]');
    expect(written).toEqual({ actor: 'u-1', [ORIGINAL_ID_KEY]: 'evt-given' });
    expect(fromKurrentMetadata(deriveUuid('evt-given'), written)).toEqual({
      id: 'evt-given',
      metadata: { actor: 'u-1' },
    });
    expect(toKurrentMetadata({ actor: 'u-1' }, undefined, 'events[0]')).toEqual({ actor: 'u-1' });
    expect(fromKurrentMetadata('u', undefined)).toEqual({ id: 'u', metadata: {} });
    expect(fromKurrentMetadata('u', new Uint8Array([1]))).toEqual({ id: 'u', metadata: {} });
    expect(() => toKurrentMetadata({ [ORIGINAL_ID_KEY]: 'x' }, undefined, 'events[2]')).toThrow(
      /events\[2\]\.metadata/,
    );
  });

  it('translates a WrongExpectedVersionError into ExpectedVersionConflictError with expected and actual', () => {
    const existing = new WrongExpectedVersionError(undefined, {
      streamName: 'p-order-1',
      expected: NO_STREAM,
      current: 1n,
    });
    const conflict = translateKurrentError(existing, 'append', { streamId: 'order-1', expected: 'no_stream' });
    expect(conflict).toBeInstanceOf(ExpectedVersionConflictError);
    expect(conflict).toMatchObject({
      code: 'STORE.EXPECTED_VERSION_CONFLICT',
      streamId: 'order-1',
      expected: 'no_stream',
      actual: 1,
    });

    const missing = new WrongExpectedVersionError(undefined, {
      streamName: 'order-1',
      expected: STREAM_EXISTS,
      current: NO_STREAM,
    });
    expect(translateKurrentError(missing, 'append', { streamId: 'order-1', expected: 'stream_exists' })).toMatchObject({
      expected: 'stream_exists',
      actual: null,
    });
  });

  it('translates connection and other vendor errors into EventStoreUnavailableError, keeping the cause', () => {
    const unavailable = new UnavailableError(undefined, 'connect ECONNREFUSED');
    const translated = translateKurrentError(unavailable, 'read $all');
    expect(translated).toBeInstanceOf(EventStoreUnavailableError);
    expect(translated.message).toMatch(/could not read \$all \(unavailable\): connect ECONNREFUSED/);
    expect(translated.cause).toBe(unavailable);
    // What the client actually throws for a refused append: a raw gRPC status error with a numeric code.
    const grpc = Object.assign(new Error('14 UNAVAILABLE: No connection established'), { code: 14 });
    expect(translateKurrentError(grpc, 'append')).toMatchObject({ code: 'STORE.UNAVAILABLE', retryable: true });
    // A wrong expected version outside an append (no conflict context) is still a backend failure, never a leak.
    expect(
      translateKurrentError(
        new WrongExpectedVersionError(undefined, { streamName: 's', expected: 1n, current: 2n }),
        'x',
      ),
    ).toBeInstanceOf(EventStoreUnavailableError);
  });

  it('recognises stream-not-found and system events', () => {
    expect(isStreamNotFound(new StreamNotFoundError(undefined, 'order-1'))).toBe(true);
    expect(isStreamNotFound(new UnavailableError(undefined, 'x'))).toBe(false);
    expect(isSystemEvent('$stats-127.0.0.1:2113', 'Stats')).toBe(true);
    expect(isSystemEvent('order-1', '$metadata')).toBe(true);
    expect(isSystemEvent('order-1', 'Placed')).toBe(false);
  });
});

describe('kurrentdb event store without a server', () => {
  it('reports an unreachable server as EventStoreUnavailableError, on appends and reads', async () => {
    const store = createKurrentDbEventStore({ connectionString: UNREACHABLE });
    try {
      for (const call of [() => store.append('order-1', [{ type: 'Placed', data: {} }]), () => store.readAll()]) {
        const error = await call().then(
          () => undefined,
          (reason: unknown) => reason,
        );
        expect(error).toBeInstanceOf(EventStoreUnavailableError);
        expect((error as EventStoreUnavailableError).code).toBe('STORE.UNAVAILABLE');
      }
    } finally {
      await store.close();
    }
  });

  it('validates arguments before any I/O, and refuses KurrentDB-reserved names', async () => {
    const store = createKurrentDbEventStore({ connectionString: UNREACHABLE });
    try {
      await expect(store.append('', [{ type: 'Placed', data: {} }])).rejects.toThrow(
        new TypeError('streamId must be a non-empty string'),
      );
      await expect(store.append('$ce-order', [{ type: 'Placed', data: {} }])).rejects.toThrow(
        /streamId must not start with '\$'/,
      );
      await expect(store.append('order-1', [{ type: '$Placed', data: {} }])).rejects.toThrow(/events\[0\]\.type/);
      await expect(store.append('order-1', [{ type: 'A', data: {} }], { expectedRevision: -1 })).rejects.toThrow(
        /expectedRevision/,
      );
      await expect(store.readStream('order-1', { maxCount: -1 })).rejects.toThrow(/maxCount/);
      expect(() => store.subscribeToAll({ after: -1 }, () => undefined)).toThrow(/after/);
      expect(() => createKurrentDbEventStore({ connectionString: UNREACHABLE, streamPrefix: '$x' })).toThrow(TypeError);
      expect(() => createKurrentDbEventStore({ connectionString: 'not a connection string' })).toThrow(TypeError);
    } finally {
      await store.close();
    }
  });

  it('once closed, rejects every call with EventStoreClosedError; closing again is harmless', async () => {
    const store = createKurrentDbEventStore({ connectionString: UNREACHABLE });
    await store.close();
    for (const call of [
      () => store.append('s', []),
      () => store.readStream('s'),
      () => store.readAll(),
      () => store.streamRevision('s'),
    ]) {
      await expect(call()).rejects.toBeInstanceOf(EventStoreClosedError);
    }
    expect(() => store.subscribeToAll({}, () => undefined)).toThrow(EventStoreClosedError);
    await store.close();
  });
});

// The conformance suite needs a KurrentDB server (Docker only; docs/kurrentdb.md): it is declared when
// ORCHESTRON_ESDB_URL names one, and is not part of the default run.
if (ESDB_URL !== undefined && ESDB_URL !== '') {
  // A shared server is never empty: each test gets its own stream prefix, and readAll/subscribeToAll only see it.
  describeEventStoreConformance(
    'kurrentdb',
    async () => createKurrentDbEventStore({ connectionString: ESDB_URL, streamPrefix: `conformance-${randomUUID()}-` }),
    // No checkpoints nor read rows: read models replay the log from 0 and keep every run in memory here (docs/kurrentdb.md, "Checkpoints").
    { densePositions: false, checkpoints: false, readRows: false, auditIndex: false },
  );
}
