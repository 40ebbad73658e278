import Database from 'better-sqlite3';
import { EventStoreUnavailableError } from '@orchestron/event-store';

/** The only place a SqliteError is looked at: past this boundary callers see port errors. */
export function translateSqliteError(error: unknown): unknown {
  if (!(error instanceof Database.SqliteError)) return error;
  return new EventStoreUnavailableError(`sqlite event store failed (${error.code}): ${error.message}`, { cause: error });
}

export function isUniqueViolation(error: unknown): boolean {
  return error instanceof Database.SqliteError && error.code === 'SQLITE_CONSTRAINT_UNIQUE';
}

/** Runs a synchronous database call, translating what escapes it. */
export function guarded<T>(call: () => T): T {
  try {
    return call();
  } catch (error) {
    throw translateSqliteError(error);
  }
}
