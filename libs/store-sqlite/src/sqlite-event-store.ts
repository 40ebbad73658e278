import { randomUUID } from 'node:crypto';
import { EventStoreClosedError } from '@orchestron/event-store';
import type { EventStore } from '@orchestron/event-store';
import {
  assertStreamId,
  createSubscriptionHub,
  normalizeReadAllOptions,
  normalizeReadStreamOptions,
  prepareAppend,
} from '@orchestron/event-store/adapter';
import { createAuditIndexTable } from './audit-index-table.ts';
import { createCheckpointsTable } from './checkpoints-table.ts';
import { createReadRowsTable } from './read-rows-table.ts';
import { createEventsTable } from './events-table.ts';
import { createGroupCommit } from './group-commit.ts';
import { openDatabase } from './schema.ts';
import { guarded } from './sqlite-errors.ts';

export interface SqliteEventStoreOptions {
  /** Database file; created and migrated when missing. */
  readonly path: string;
  /** Assigns ids to events appended without one. Defaults to a random UUID. */
  readonly ids?: () => string;
  /** Stamps `recordedAt`, once per committed batch. Defaults to the wall clock. */
  readonly now?: () => Date;
}

/** An embedded, durable EventStore in one SQLite file (WAL, synchronous=FULL, group commit). */
export function createSqliteEventStore(options: SqliteEventStoreOptions): EventStore {
  if (typeof options.path !== 'string' || options.path.length === 0)
    throw new TypeError('path must be a non-empty string');
  const newId = options.ids ?? randomUUID;
  const db = guarded(() => openDatabase(options.path));
  const table = createEventsTable(db);
  const now = options.now ?? (() => new Date());
  const hub = createSubscriptionHub(async (after, maxCount) => guarded(() => table.readAll(after, maxCount)));
  const writer = createGroupCommit({
    db,
    table,
    now,
    wantsCommitted: () => hub.hasSubscribers,
    onCommitted: (events) => hub.publish(events),
  });
  let closing: Promise<void> | undefined;

  function assertOpen(): void {
    if (closing !== undefined) throw new EventStoreClosedError();
  }

  async function close(): Promise<void> {
    // Appends accepted before close still commit.
    writer.flush();
    await hub.closeAll();
    db.close();
  }

  return {
    async append(streamId, events, appendOptions) {
      assertOpen();
      return writer.enqueue(prepareAppend(streamId, events, appendOptions, newId));
    },

    async readStream(streamId, readOptions) {
      assertOpen();
      const { fromRevision, direction, maxCount } = normalizeReadStreamOptions(streamId, readOptions);
      return guarded(() =>
        direction === 'forwards'
          ? table.readForwards(streamId, fromRevision ?? 0, maxCount)
          : table.readBackwards(streamId, fromRevision ?? Number.MAX_SAFE_INTEGER, maxCount),
      );
    },

    async readAll(readOptions) {
      assertOpen();
      const { after, maxCount } = normalizeReadAllOptions(readOptions);
      return guarded(() => table.readAll(after, maxCount));
    },

    async streamRevision(streamId) {
      assertOpen();
      assertStreamId(streamId);
      return guarded(() => table.head(streamId)?.revision ?? null);
    },

    subscribeToAll(subscribeOptions, handler) {
      assertOpen();
      return hub.subscribe(subscribeOptions, handler);
    },

    checkpoints: createCheckpointsTable({ db, now, assertOpen }),
    readRows: createReadRowsTable(db, assertOpen),
    auditIndex: createAuditIndexTable(db, assertOpen),

    close() {
      closing ??= close();
      return closing;
    },
  };
}
