import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { EventStore } from '@orchestron/event-store';
import { UsageError } from './cli.errors.ts';

export interface StoreOptions {
  readonly data?: string;
  readonly pg?: string;
  readonly schema?: string;
}

/** Which store a command opens directly (not through the server), in words for its output. */
export interface OpenedStore {
  readonly store: EventStore;
  readonly where: string;
  /** Set when the store looks in use by a running server (only the embedded one can tell). */
  readonly inUse?: string;
}

const EVENTS_FILE = 'events.sqlite';

/**
 * The embedded SQLite store of a data directory (--data, else $ORCHESTRON_DATA, else ./.orchestron, as the server
 * picks it), or a PostgreSQL one (--pg [--schema]). The adapters load only when chosen. A data directory with no
 * event store is refused: opening it would create an empty one.
 */
export async function openStoreDirectly(
  options: StoreOptions,
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
): Promise<OpenedStore> {
  if (options.pg !== undefined && options.data !== undefined) throw new UsageError('give --data or --pg, not both');
  if (options.schema !== undefined && options.pg === undefined) throw new UsageError('--schema goes with --pg');
  if (options.pg !== undefined) {
    const schema = options.schema ?? env.ORCHESTRON_PG_SCHEMA ?? 'orchestron';
    const { createPostgresEventStore } = await import('@orchestron/store-postgres');
    const store = await createPostgresEventStore({ url: options.pg, schema });
    return { store, where: `PostgreSQL schema ${schema}` };
  }
  const dir = resolve(cwd, options.data ?? env.ORCHESTRON_DATA ?? '.orchestron');
  const path = join(dir, EVENTS_FILE);
  if (!existsSync(path))
    throw new UsageError(`--data: no event store in ${dir} (no ${EVENTS_FILE}); is it the server's data directory?`);
  // SQLite removes the write-ahead log when the last connection closes: one there means a server has it open
  // (or stopped without closing it).
  const wal = `${path}-wal`;
  const inUse = existsSync(wal) ? `${wal} exists` : undefined;
  const { createSqliteEventStore } = await import('@orchestron/store-sqlite');
  return { store: createSqliteEventStore({ path }), where: path, ...(inUse !== undefined ? { inUse } : {}) };
}
