import { assertCheckpointName, openCheckpoint, sealCheckpoint } from './checkpoint-seal.ts';
import type { SealedCheckpoint } from './checkpoint-seal.ts';
import { assertStreamId, normalizeReadAllOptions, normalizeReadStreamOptions, prepareAppend } from './arguments.ts';
import type { PreparedEvent } from './arguments.ts';
import { EventStoreClosedError, ExpectedVersionConflictError } from './errors.ts';
import type { AppendResult, EventStore, RecordedEvent } from './event-store.port.ts';
import { isExpectedRevisionSatisfied } from './expected-revision.ts';
import { createInMemoryAuditIndex } from './in-memory-audit-index.ts';
import { createInMemoryReadRows } from './in-memory-read-rows.ts';
import { createSubscriptionHub } from './subscription-hub.ts';

export interface InMemoryEventStoreOptions {
  /** Assigns ids to events appended without one. Defaults to Web Crypto's randomUUID. */
  readonly ids?: () => string;
  /** Stamps `recordedAt`. Defaults to the wall clock. */
  readonly now?: () => Date;
  /** Where checkpoints are kept; pass a map to look at (or tamper with) them from a test. */
  readonly checkpointRecords?: Map<string, SealedCheckpoint>;
  /** Whether the store keeps read rows (default true); false makes a store without the capability, for tests. */
  readonly readRows?: boolean;
  /** Whether the store keeps an audit index (default true); false makes a store without it, for tests. */
  readonly auditIndex?: boolean;
}

/** For unit tests and single-process tools. Events are stored as the JSON the port accepted, then frozen. */
export function createInMemoryEventStore(options: InMemoryEventStoreOptions = {}): EventStore {
  const newId = options.ids ?? (() => globalThis.crypto.randomUUID());
  const now = options.now ?? (() => new Date());
  // all[i] has position i + 1.
  const all: RecordedEvent[] = [];
  const streams = new Map<string, RecordedEvent[]>();
  const checkpoints = options.checkpointRecords ?? new Map<string, SealedCheckpoint>();
  const hub = createSubscriptionHub(async (after, maxCount) => all.slice(after, after + maxCount));
  let closed = false;

  function assertOpen(): void {
    if (closed) throw new EventStoreClosedError();
  }

  function record(streamId: string, revision: number, event: PreparedEvent, recordedAt: string): RecordedEvent {
    return deepFreeze({
      id: event.id,
      streamId,
      revision,
      position: all.length + 1,
      type: event.type,
      data: JSON.parse(event.dataJson) as unknown,
      metadata: JSON.parse(event.metadataJson) as Record<string, unknown>,
      recordedAt,
    });
  }

  return {
    async append(streamId, events, appendOptions): Promise<AppendResult> {
      assertOpen();
      const prepared = prepareAppend(streamId, events, appendOptions, newId);
      const stream = streams.get(prepared.streamId) ?? [];
      const actual = stream.length === 0 ? null : stream.length - 1;
      if (!isExpectedRevisionSatisfied(prepared.expectedRevision, actual)) {
        throw new ExpectedVersionConflictError(prepared.streamId, prepared.expectedRevision, actual);
      }
      if (prepared.events.length === 0) {
        return { nextExpectedRevision: actual ?? -1, position: stream.at(-1)?.position ?? 0 };
      }
      const recordedAt = now().toISOString();
      const appended = prepared.events.map((event) => {
        const recorded = record(prepared.streamId, stream.length, event, recordedAt);
        stream.push(recorded);
        all.push(recorded);
        return recorded;
      });
      streams.set(prepared.streamId, stream);
      hub.publish(appended);
      return { nextExpectedRevision: stream.length - 1, position: all.length };
    },

    async readStream(streamId, readOptions) {
      assertOpen();
      const { fromRevision, direction, maxCount } = normalizeReadStreamOptions(streamId, readOptions);
      const stream = streams.get(streamId) ?? [];
      const count = maxCount ?? stream.length;
      if (direction === 'forwards') {
        const start = fromRevision ?? 0;
        return stream.slice(start, start + count);
      }
      const end = Math.min(fromRevision ?? stream.length - 1, stream.length - 1) + 1;
      return stream.slice(Math.max(0, end - count), end).reverse();
    },

    async readAll(readOptions) {
      assertOpen();
      const { after, maxCount } = normalizeReadAllOptions(readOptions);
      return all.slice(after, maxCount === undefined ? undefined : after + maxCount);
    },

    async streamRevision(streamId) {
      assertOpen();
      assertStreamId(streamId);
      const length = streams.get(streamId)?.length ?? 0;
      return length === 0 ? null : length - 1;
    },

    subscribeToAll(subscribeOptions, handler) {
      assertOpen();
      return hub.subscribe(subscribeOptions, handler);
    },

    checkpoints: {
      async load(name) {
        assertOpen();
        assertCheckpointName(name);
        const sealed = checkpoints.get(name);
        return sealed === undefined ? undefined : openCheckpoint(name, sealed);
      },
      async save(name, checkpoint) {
        assertOpen();
        const sealed = sealCheckpoint(name, checkpoint);
        checkpoints.set(sealed.name, sealed);
      },
    },

    ...(options.readRows === false ? {} : { readRows: createInMemoryReadRows(assertOpen) }),
    ...(options.auditIndex === false
      ? {}
      : { auditIndex: createInMemoryAuditIndex(assertOpen, (position) => all[position - 1]) }),

    async close() {
      if (closed) return;
      closed = true;
      await hub.closeAll();
    },
  };
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
