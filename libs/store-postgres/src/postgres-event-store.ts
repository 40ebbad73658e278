import { randomUUID } from 'node:crypto';
import { EventStoreClosedError } from '@orchestron/event-store';
import type { EventStore } from '@orchestron/event-store';
import {
  assertStreamId,
  normalizeReadAllOptions,
  normalizeReadStreamOptions,
  prepareAppend,
} from '@orchestron/event-store/adapter';
import pg from 'pg';
import type { Pool } from 'pg';
import { createAppendBatcher } from './append-batcher.ts';
import { createAuditIndexTable } from './audit-index-table.ts';
import { createCheckpointsTable } from './checkpoints-table.ts';
import { createReadRowsTable } from './read-rows-table.ts';
import { createEventsTable } from './events-table.ts';
import { migrate } from './migrations.ts';
import { guarded } from './postgres-errors.ts';
import { schemaNames } from './schema-names.ts';
import { assertStorable } from './storable-text.ts';
import { startSubscriptions } from './subscriptions.ts';

interface StoreSettings {
  /** Postgres schema holding the store's tables; created and migrated when missing. Defaults to `orchestron`. */
  readonly schema?: string;
  /** Assigns ids to events appended without one. Defaults to a random UUID. */
  readonly ids?: () => string;
  /** Stamps `recordedAt`, once per committed batch. Defaults to the wall clock. */
  readonly now?: () => Date;
  /** How often subscriptions look for new events in case a notification was missed. Defaults to 1000 ms. */
  readonly pollIntervalMs?: number;
}

/**
 * Either a connection URL, for a pool the store owns and ends on close, or a pool the caller owns and ends.
 * Either way the store holds one of the pool's connections for LISTEN while it is open.
 */
export type PostgresEventStoreOptions = StoreSettings &
  (
    | {
        readonly url: string;
        readonly pool?: never;
        /** Connections of the pool the store owns, LISTEN included (default 10, at least 2). */ readonly poolSize?: number;
      }
    | { readonly pool: Pool; readonly url?: never; readonly poolSize?: never }
  );

const OWNED_POOL_SIZE = 10;
const CONNECT_TIMEOUT_MS = 10_000;

/**
 * A durable EventStore in a PostgreSQL schema. Async: it migrates the schema and starts listening for appends
 * before it hands the store out.
 */
export async function createPostgresEventStore(options: PostgresEventStoreOptions): Promise<EventStore> {
  const names = schemaNames(options.schema);
  const pollIntervalMs = options.pollIntervalMs ?? 1_000;
  if (!Number.isSafeInteger(pollIntervalMs) || pollIntervalMs <= 0)
    throw new TypeError('pollIntervalMs must be a positive integer');
  const { pool, owned } = connect(options);
  try {
    await migrate(pool, names);
    const table = createEventsTable(pool, names);
    const readAll = (after: number, maxCount: number | undefined) =>
      guarded('read all events', () => table.readAll(after, maxCount));
    const subscriptions = await startSubscriptions({
      pool,
      channel: names.rowsChannel,
      readAll,
      readHead: () => guarded('read the head position', () => table.head()),
      pollIntervalMs,
    });
    const batcher = createAppendBatcher({
      table,
      now: options.now ?? (() => new Date()),
      onCommitted: subscriptions.committed,
      wantsEvents: () => subscriptions.hasSubscribers,
      onAppended: subscriptions.appended,
      onBatchStarted: subscriptions.appendStarted,
      onBatchEnded: subscriptions.appendEnded,
    });
    const newId = options.ids ?? randomUUID;
    let closing: Promise<void> | undefined;

    const assertOpen = (): void => {
      if (closing !== undefined) throw new EventStoreClosedError();
    };

    const close = async (): Promise<void> => {
      // Appends accepted before close still commit.
      await batcher.drain();
      await subscriptions.close();
      if (owned) await pool.end();
    };

    return {
      async append(streamId, events, appendOptions) {
        assertOpen();
        const prepared = prepareAppend(streamId, events, appendOptions, newId);
        assertStorable(prepared);
        return batcher.enqueue(prepared);
      },

      async readStream(streamId, readOptions) {
        assertOpen();
        const { fromRevision, direction, maxCount } = normalizeReadStreamOptions(streamId, readOptions);
        return guarded('read a stream', () =>
          direction === 'forwards'
            ? table.readForwards(streamId, fromRevision ?? 0, maxCount)
            : table.readBackwards(streamId, fromRevision ?? Number.MAX_SAFE_INTEGER, maxCount),
        );
      },

      async readAll(readOptions) {
        assertOpen();
        const { after, maxCount } = normalizeReadAllOptions(readOptions);
        return readAll(after, maxCount);
      },

      async streamRevision(streamId) {
        assertOpen();
        assertStreamId(streamId);
        return guarded('read the stream revision', () => table.streamRevision(streamId));
      },

      subscribeToAll(subscribeOptions, handler) {
        assertOpen();
        return subscriptions.subscribe(subscribeOptions, handler);
      },

      checkpoints: createCheckpointsTable(pool, names, assertOpen),
      readRows: createReadRowsTable(pool, names, assertOpen),
      auditIndex: createAuditIndexTable(pool, names, assertOpen),

      close() {
        closing ??= close();
        return closing;
      },
    };
  } catch (error) {
    if (owned) await pool.end().catch(() => undefined);
    throw error;
  }
}

function connect(options: PostgresEventStoreOptions): { pool: Pool; owned: boolean } {
  if (options.pool !== undefined) return { pool: options.pool, owned: false };
  if (typeof options.url !== 'string' || options.url.length === 0)
    throw new TypeError('url must be a non-empty string, or pass a pool');
  const size = options.poolSize ?? OWNED_POOL_SIZE;
  if (!Number.isInteger(size) || size < 2)
    throw new TypeError(
      `poolSize must be an integer of at least 2 (one connection listens for new events), got ${String(options.poolSize)}`,
    );
  const pool = new pg.Pool({ connectionString: options.url, max: size, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  // An idle connection the server drops is reported here; the pool replaces it, and a call that needed it fails
  // through the port. Left without a listener, the error would crash the process.
  pool.on('error', () => undefined);
  return { pool, owned: true };
}
