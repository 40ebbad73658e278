import type { Pool, QueryResult } from 'pg';
import { appendEventsFunction } from './append-events-function.ts';
import { guarded } from './postgres-errors.ts';
import type { SchemaNames } from './schema-names.ts';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: (names: SchemaNames) => string;
}

/**
 * Append-only and applied in order: migration N takes the schema from version N - 1 to N. Never edit a shipped
 * entry; add one that alters what it left behind.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'create_events',
    // `global_position` is one row that every append locks first (see append_events). `data` and `metadata`
    // are `json`, not `jsonb`: json keeps the exact text the port serialized, so strings holding \u0000 or
    // lone surrogate escapes round-trip (jsonb rejects both), and it is still queryable with -> and ->>.
    // The cost: no jsonb GIN index without a cast, and each -> re-parses the text.
    sql: ({ schema }) => `
      CREATE TABLE ${schema}.global_position (
        singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
        last      bigint  NOT NULL CHECK (last >= 0)
      );
      INSERT INTO ${schema}.global_position (singleton, last) VALUES (true, 0);

      CREATE TABLE ${schema}.events (
        position    bigint      PRIMARY KEY CHECK (position > 0),
        stream_id   text        NOT NULL,
        revision    bigint      NOT NULL CHECK (revision >= 0),
        id          text        NOT NULL,
        type        text        NOT NULL,
        data        json        NOT NULL,
        metadata    json        NOT NULL,
        recorded_at timestamptz NOT NULL,
        UNIQUE (stream_id, revision)
      );`,
  },
  {
    version: 2,
    name: 'create_append_events',
    // One call appends a whole batch, each append checked against the stream heads as they stand after the
    // appends before it, and returns one row per append: a conflict carries the stream's actual revision.
    //
    // Positions must be gap-free in commit order, or a reader that sees position 11 before 10 commits skips
    // 10 forever. A sequence cannot promise that; locking the `global_position` row first does: the lock is
    // held until COMMIT, so batches take their positions, and commit, one after the other, and the check of
    // each expected revision reads heads no other writer can move. The cost: commits are serialized across
    // every writer of the schema, so throughput is about one batch per WAL flush. Running the whole append
    // inside the server keeps client round trips out of that critical section, and batching the appends of a
    // process (append-batcher.ts) shares one flush among them.
    sql: (names) => appendEventsFunction(names, false),
  },
  {
    version: 3,
    name: 'create_checkpoints',
    // Read-model checkpoints and stream snapshots (the port's CheckpointStore): one row per name, replaced whole
    // by one upsert. `state` is text, not json, for the same reason as the events' columns: it is the caller's
    // exact text, checked against `digest` on the way out.
    sql: ({ schema }) => `
      CREATE TABLE ${schema}.checkpoints (
        name     text        PRIMARY KEY,
        position bigint      NOT NULL CHECK (position >= 0),
        state    text        NOT NULL,
        digest   text        NOT NULL,
        saved_at timestamptz NOT NULL DEFAULT now()
      );`,
  },
  {
    version: 4,
    name: 'create_read_rows',
    // Read rows (the port's ReadRowStore): the run index's ended runs, listed newest first by tenant and status.
    sql: ({ schema }) => `
      CREATE TABLE ${schema}.read_rows (
        tbl      text   NOT NULL,
        id       text   NOT NULL,
        position bigint NOT NULL CHECK (position >= 0),
        tenant   text   NOT NULL,
        status   text   NOT NULL,
        kind     text   NOT NULL,
        body     text   NOT NULL,
        PRIMARY KEY (tbl, id)
      );
      CREATE INDEX read_rows_by_position ON ${schema}.read_rows (tbl, position DESC);
      CREATE INDEX read_rows_by_tenant ON ${schema}.read_rows (tbl, tenant, position DESC);
      CREATE INDEX read_rows_by_tenant_status ON ${schema}.read_rows (tbl, tenant, status, position DESC);`,
  },
  {
    version: 5,
    name: 'create_audit_index',
    // The audit index (the port's AuditIndexStore): one row per run event, searched in position order by each
    // field. Every search but an admin's is scoped to a tenant, so each field's index goes on with the tenant.
    sql: ({ schema }) => `
      CREATE TABLE ${schema}.audit_index (
        position      bigint      PRIMARY KEY CHECK (position > 0),
        run_id        text        NOT NULL,
        tenant        text        NOT NULL,
        definition_id text        NOT NULL,
        type          text        NOT NULL,
        actor         text,
        step_id       text,
        policy_id     text,
        recorded_at   timestamptz NOT NULL
      );
      CREATE INDEX audit_by_tenant ON ${schema}.audit_index (tenant, position);
      CREATE INDEX audit_by_run ON ${schema}.audit_index (run_id, position);
      CREATE INDEX audit_by_definition ON ${schema}.audit_index (definition_id, tenant, position);
      CREATE INDEX audit_by_actor ON ${schema}.audit_index (actor, tenant, position);
      CREATE INDEX audit_by_type ON ${schema}.audit_index (type, tenant, position);
      CREATE INDEX audit_by_step ON ${schema}.audit_index (step_id, tenant, position);
      CREATE INDEX audit_by_policy ON ${schema}.audit_index (policy_id, tenant, position);
      CREATE INDEX audit_by_time ON ${schema}.audit_index (tenant, recorded_at);`,
  },
  {
    version: 6,
    name: 'append_events_sends_rows',
    // append_events also sends the rows it appended on the rows channel, so followers need not read them back.
    sql: (names) => appendEventsFunction(names, true),
  },
  {
    version: 7,
    name: 'partial_audit_indexes',
    // Most run events have no actor, step or policy (in a 3-step probe: 74%, 25% and 63% of them), and a B-tree
    // keeps an entry for each NULL that no search can use: `col = $n` never matches NULL, and PostgreSQL proves
    // such a search implies `col IS NOT NULL`, so it still uses the partial index. Rebuilding the three indexes
    // holds the table's write lock while they are built: on a large audit index, run it off-peak.
    sql: ({ schema }) => `
      DROP INDEX ${schema}.audit_by_actor;
      DROP INDEX ${schema}.audit_by_step;
      DROP INDEX ${schema}.audit_by_policy;
      CREATE INDEX audit_by_actor ON ${schema}.audit_index (actor, tenant, position) WHERE actor IS NOT NULL;
      CREATE INDEX audit_by_step ON ${schema}.audit_index (step_id, tenant, position) WHERE step_id IS NOT NULL;
      CREATE INDEX audit_by_policy ON ${schema}.audit_index (policy_id, tenant, position) WHERE policy_id IS NOT NULL;`,
  },
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Brings the schema up to SCHEMA_VERSION in one transaction. The advisory lock makes concurrent starters take
 * turns: the second one finds the first one's work recorded in `migrations` and has nothing left to do.
 */
export async function migrate(pool: Pool, names: SchemaNames): Promise<void> {
  const client = await guarded('connect to migrate', () => pool.connect());
  const run = (text: string, values?: unknown[]) =>
    guarded(`migrate schema "${names.schemaName}"`, () => client.query(text, values));
  let broken = false;
  try {
    await run('BEGIN');
    try {
      await applyPending(run, names);
      await run('COMMIT');
    } catch (error) {
      await run('ROLLBACK').catch(() => {
        broken = true;
      });
      throw error;
    }
  } finally {
    client.release(broken);
  }
}

type Run = (text: string, values?: unknown[]) => Promise<QueryResult>;

async function applyPending(run: Run, names: SchemaNames): Promise<void> {
  const { schema } = names;
  await run('SELECT pg_advisory_xact_lock(hashtext($1))', [`orchestron.migrate:${names.schemaName}`]);
  // CREATE SCHEMA IF NOT EXISTS is not safe against a concurrent one (it fails on a unique index): everything of
  // Orchestron that creates a schema (this store, the workers' ledger) takes this lock first.
  await run('SELECT pg_advisory_xact_lock(hashtext($1))', [`orchestron.schema:${names.schemaName}`]);
  await run(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  await run(`
    CREATE TABLE IF NOT EXISTS ${schema}.migrations (
      version    integer     PRIMARY KEY,
      name       text        NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
  const { rows } = await run(`SELECT version, name FROM ${schema}.migrations ORDER BY version`);
  const applied = rows as { version: number; name: string }[];
  assertKnownHistory(applied, names.schemaName);
  for (const migration of MIGRATIONS.slice(applied.length)) {
    await run(migration.sql(names));
    await run(`INSERT INTO ${schema}.migrations (version, name) VALUES ($1, $2)`, [migration.version, migration.name]);
  }
}

/** A plain Error, not a port error: the schema belongs to another version of this adapter, and retrying cannot help. */
function assertKnownHistory(applied: readonly { version: number; name: string }[], schemaName: string): void {
  const newest = applied.at(-1)?.version ?? 0;
  if (newest > SCHEMA_VERSION) {
    throw new Error(
      `postgres schema "${schemaName}" is at version ${newest}, newer than this adapter supports (${SCHEMA_VERSION})`,
    );
  }
  applied.forEach((row, index) => {
    const expected = MIGRATIONS[index];
    if (row.version !== expected?.version || row.name !== expected.name) {
      throw new Error(
        `postgres schema "${schemaName}" has migration ${row.version} '${row.name}' where this adapter expects ${String(expected?.version)} '${String(expected?.name)}'`,
      );
    }
  });
}
