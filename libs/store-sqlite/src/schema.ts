import { closeSync, openSync } from 'node:fs';
import Database from 'better-sqlite3';
import { EventStoreUnavailableError } from '@orchestron/event-store';

export type SqliteDatabase = Database.Database;

/** Append-only: migration N takes the schema from user_version N to N + 1. Never edit a shipped entry. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE events (
     position    INTEGER PRIMARY KEY AUTOINCREMENT,
     stream_id   TEXT    NOT NULL,
     revision    INTEGER NOT NULL CHECK (revision >= 0),
     id          TEXT    NOT NULL,
     type        TEXT    NOT NULL,
     data        TEXT    NOT NULL,
     metadata    TEXT    NOT NULL,
     recorded_at TEXT    NOT NULL,
     UNIQUE (stream_id, revision)
   ) STRICT`,
  // Read-model checkpoints and stream snapshots (the port's CheckpointStore): one row per name, replaced whole.
  `CREATE TABLE checkpoints (
     name     TEXT    PRIMARY KEY,
     position INTEGER NOT NULL CHECK (position >= 0),
     state    TEXT    NOT NULL,
     digest   TEXT    NOT NULL,
     saved_at TEXT    NOT NULL
   ) STRICT`,
  // Read rows (the port's ReadRowStore): the run index's ended runs, listed newest first by tenant and status.
  `CREATE TABLE read_rows (
     tbl      TEXT    NOT NULL,
     id       TEXT    NOT NULL,
     position INTEGER NOT NULL CHECK (position >= 0),
     tenant   TEXT    NOT NULL,
     status   TEXT    NOT NULL,
     kind     TEXT    NOT NULL,
     body     TEXT    NOT NULL,
     PRIMARY KEY (tbl, id)
   ) STRICT;
   CREATE INDEX read_rows_by_position ON read_rows (tbl, position DESC);
   CREATE INDEX read_rows_by_tenant ON read_rows (tbl, tenant, position DESC);
   CREATE INDEX read_rows_by_tenant_status ON read_rows (tbl, tenant, status, position DESC)`,
  // The audit index (the port's AuditIndexStore): one row per run event, searched in position order by each field.
  // Every search but an admin's is scoped to a tenant, so each field's index goes on with the tenant.
  `CREATE TABLE audit_index (
     position      INTEGER PRIMARY KEY CHECK (position > 0),
     run_id        TEXT    NOT NULL,
     tenant        TEXT    NOT NULL,
     definition_id TEXT    NOT NULL,
     type          TEXT    NOT NULL,
     actor         TEXT,
     step_id       TEXT,
     policy_id     TEXT,
     recorded_at   TEXT    NOT NULL
   ) STRICT;
   CREATE INDEX audit_by_tenant ON audit_index (tenant, position);
   CREATE INDEX audit_by_run ON audit_index (run_id, position);
   CREATE INDEX audit_by_definition ON audit_index (definition_id, tenant, position);
   CREATE INDEX audit_by_actor ON audit_index (actor, tenant, position);
   CREATE INDEX audit_by_type ON audit_index (type, tenant, position);
   CREATE INDEX audit_by_step ON audit_index (step_id, tenant, position);
   CREATE INDEX audit_by_policy ON audit_index (policy_id, tenant, position);
   CREATE INDEX audit_by_time ON audit_index (tenant, recorded_at)`,
  // Most run events have no actor, step or policy, and an index entry for a NULL serves no search (`col = ?` never
  // matches one); SQLite uses a partial index for a search whose `col = ?` implies its `col IS NOT NULL`.
  `DROP INDEX audit_by_actor;
   DROP INDEX audit_by_step;
   DROP INDEX audit_by_policy;
   CREATE INDEX audit_by_actor ON audit_index (actor, tenant, position) WHERE actor IS NOT NULL;
   CREATE INDEX audit_by_step ON audit_index (step_id, tenant, position) WHERE step_id IS NOT NULL;
   CREATE INDEX audit_by_policy ON audit_index (policy_id, tenant, position) WHERE policy_id IS NOT NULL`,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

export function openDatabase(path: string): SqliteDatabase {
  const db = open(path);
  try {
    configure(db);
    migrate(db);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

function open(path: string): SqliteDatabase {
  try {
    createPrivately(path);
    return new Database(path);
  } catch (error) {
    // better-sqlite3 reports a missing directory as a TypeError, not a SqliteError.
    throw new EventStoreUnavailableError(`cannot open sqlite database at ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/**
 * The events hold every run's input: a new file is readable by its owner alone (0600). SQLite gives the -wal and
 * -shm files the database file's permissions. An existing file keeps the ones its owner chose.
 */
export function createPrivately(path: string): void {
  if (path === ':memory:' || path === '') return;
  try {
    closeSync(openSync(path, 'wx', 0o600));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
}

function configure(db: SqliteDatabase): void {
  const mode = db.pragma('journal_mode = WAL', { simple: true });
  if (mode !== 'wal' && !db.memory) throw new Error(`sqlite refused WAL mode (journal_mode is ${String(mode)})`);
  // FULL syncs the WAL on every commit, so an acknowledged append survives power loss, not only a crash.
  db.pragma('synchronous = FULL');
  // Another process may hold the write lock; waiting briefly beats failing the whole batch.
  db.pragma('busy_timeout = 5000');
}

function migrate(db: SqliteDatabase): void {
  // One migration per IMMEDIATE transaction, re-reading the version inside it, so two processes opening the
  // same fresh file cannot both apply a step.
  const step = db.transaction((): boolean => {
    const version = userVersion(db);
    if (version > SCHEMA_VERSION) {
      throw new Error(`database schema version ${version} is newer than this adapter supports (${SCHEMA_VERSION})`);
    }
    const migration = MIGRATIONS[version];
    if (migration === undefined) return false;
    db.exec(migration);
    db.pragma(`user_version = ${version + 1}`);
    return true;
  });
  while (step.immediate()) {
    // Apply until current.
  }
}

function userVersion(db: SqliteDatabase): number {
  return db.pragma('user_version', { simple: true }) as number;
}
