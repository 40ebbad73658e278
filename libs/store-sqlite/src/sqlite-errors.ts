import Database from 'better-sqlite3';
import { EventStoreUnavailableError } from '@orchestron/event-store';

/**
 * Recognised by name as well as by class: a test runner that loads better-sqlite3 in more than one module
 * registry (Jest does, under load) hands out SqliteErrors of different classes.
 */
function isSqliteError(error: unknown): error is InstanceType<typeof Database.SqliteError> {
  if (error instanceof Database.SqliteError) return true;
  // Not `instanceof Error` either: the other registry may also be another realm.
  const e = error as { name?: unknown; code?: unknown } | null;
  return typeof e === 'object' && e !== null && e.name === 'SqliteError' && typeof e.code === 'string';
}

/** The only place a SqliteError is looked at: past this boundary callers see port errors. */
export function translateSqliteError(error: unknown): unknown {
  if (!isSqliteError(error)) return error;
  return new EventStoreUnavailableError(`sqlite event store failed (${error.code}): ${error.message}`, {
    cause: error,
  });
}

export function isUniqueViolation(error: unknown): boolean {
  return isSqliteError(error) && error.code === 'SQLITE_CONSTRAINT_UNIQUE';
}

/** Runs a synchronous database call, translating what escapes it. */
export function guarded<T>(call: () => T): T {
  try {
    return call();
  } catch (error) {
    throw translateSqliteError(error);
  }
}
