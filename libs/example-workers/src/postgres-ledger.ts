import DataLoader from 'dataloader';
import pg from 'pg';
import type { Pool } from 'pg';
import type { ClaimContext, ClaimResult, IdempotencyLedger, Outcome } from '@orchestron/worker-sdk';

export interface PostgresLedgerOptions {
  /** A connection URL; the ledger then owns its pool and ends it on close. */
  readonly url?: string;
  /** A pool to use instead (not ended on close). */
  readonly pool?: Pool;
  /** Connections of the pool the ledger owns (default 10); claims are short, a few per worker instance do. */
  readonly poolSize?: number;
  /** Where the tables live, created when missing (default `orchestron`). */
  readonly schema?: string;
  /** Told about errors of idle connections in a pool the ledger owns, which would otherwise end the process. */
  readonly onPoolError?: (error: Error) => void;
}

// Lower case only, so the name means the same quoted or not, as in @orchestron/store-postgres.
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,47}$/;
// unique_violation, duplicate_table, duplicate_schema, duplicate_object: two starters creating the same thing.
const CREATE_RACES = new Set(['23505', '42P07', '42P06', '42710']);

/** Claims, or completions, asked for in one tick of the event loop go to the database as one statement. */
const MAX_BATCH = 500;

interface ClaimRow {
  readonly key: string;
  readonly won: boolean;
  readonly state: string | null;
  readonly outcome: string | null;
}

/**
 * The idempotency ledger for workers of one name running as several processes on one PostgreSQL database.
 * A claim is an `INSERT … ON CONFLICT DO NOTHING`: of any number of instances claiming a key at once, the
 * database lets exactly one insert it. `worker_executions` logs every handler start, apart from the claims.
 *
 * The claims asked for in one tick are one statement (one row each, through `unnest`), and so are the completions:
 * at 50 attempts in flight that is a handful of round trips and commits where it was one per call (ADR 35).
 */
export class PostgresLedger implements IdempotencyLedger {
  readonly schema: string;
  private readonly pool: Pool;
  private readonly ownsPool: boolean;
  private readonly claims: string;
  private readonly executions: string;
  private readonly claimed: DataLoader<{ key: string; ctx: ClaimContext }, ClaimRow>;
  private readonly completed: DataLoader<{ key: string; outcome: Outcome }, true>;

  private constructor(pool: Pool, ownsPool: boolean, schema: string) {
    this.pool = pool;
    this.ownsPool = ownsPool;
    this.schema = schema;
    this.claims = `"${schema}".worker_claims`;
    this.executions = `"${schema}".worker_executions`;
    const batching = { cache: false, maxBatchSize: MAX_BATCH } as const;
    this.claimed = new DataLoader((asks) => this.claimAll(asks), batching);
    this.completed = new DataLoader((asks) => this.completeAll(asks), batching);
  }

  /** Connects, and creates the schema and tables when they are missing (safe with many instances starting at once). */
  static async open(options: PostgresLedgerOptions): Promise<PostgresLedger> {
    const schema = options.schema ?? 'orchestron';
    if (!SCHEMA_NAME.test(schema))
      throw new TypeError(
        `PostgresLedger: schema must be 1 to 48 lower-case letters, digits or underscores, not starting with a digit; got ${JSON.stringify(schema)}`,
      );
    if ((options.url === undefined) === (options.pool === undefined))
      throw new TypeError('PostgresLedger: give exactly one of url and pool');
    const pool =
      options.pool ??
      new pg.Pool({ connectionString: options.url, max: options.poolSize ?? 10, connectionTimeoutMillis: 10_000 });
    if (options.pool === undefined) pool.on('error', (error) => (options.onPoolError ?? reportPoolError)(error));
    const ledger = new PostgresLedger(pool, options.pool === undefined, schema);
    try {
      await ledger.createTables();
    } catch (error) {
      await ledger.close();
      throw new Error(
        `PostgresLedger: could not prepare schema "${schema}": ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
    return ledger;
  }

  /**
   * One statement with the other claims of its tick: the claim, the execution log when it wins (the worker then
   * skips `recordExecution`), and the row of an earlier claim when it loses. The log is written in the claim's own
   * transaction, so one row per key still means one claim won, and a key claimed twice still shows two.
   */
  async claim(key: string, ctx: ClaimContext): Promise<ClaimResult> {
    const first = await this.claimed.load({ key, ctx });
    if (first.won) return { state: 'claimed', executionRecorded: true };
    if (first.state === 'done') return { state: 'done', outcome: JSON.parse(first.outcome ?? 'null') as Outcome };
    if (first.state === 'running') return { state: 'running' };
    // The claim that won committed after this statement's snapshot was taken: a separate statement sees it under
    // READ COMMITTED.
    const { rows } = await this.pool.query<{ state: string; outcome: string | null }>(
      `SELECT state, outcome FROM ${this.claims} WHERE key = $1`,
      [key],
    );
    const row = rows[0];
    if (row === undefined) throw new Error(`PostgresLedger: the claim of "${key}" conflicted but no row holds it`);
    return row.state === 'done'
      ? { state: 'done', outcome: JSON.parse(row.outcome ?? 'null') as Outcome }
      : { state: 'running' };
  }

  async complete(key: string, outcome: Outcome): Promise<void> {
    await this.completed.load({ key, outcome });
  }

  /** A key asked for twice in one tick is claimed once: the second ask loses to the first, as it would a tick later. */
  private async claimAll(asks: readonly { key: string; ctx: ClaimContext }[]): Promise<ClaimRow[]> {
    const unique = firstOfEachKey(asks);
    const column = <T>(pick: (ctx: ClaimContext) => T): T[] => unique.map((ask) => pick(ask.ctx));
    const { rows } = await this.pool.query<ClaimRow>(
      `WITH asked AS (
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::text[])
           AS a (key, worker, instance, run_id, step_id, attempt, phase)
       ), won AS (
         INSERT INTO ${this.claims} (key, state, worker, instance, run_id, step_id, attempt, phase)
         SELECT key, 'running', worker, instance, run_id, step_id, attempt, phase FROM asked
         ON CONFLICT (key) DO NOTHING RETURNING key
       ), logged AS (
         INSERT INTO ${this.executions} (key, worker, instance, run_id, step_id, attempt, phase)
         SELECT key, worker, instance, run_id, step_id, attempt, phase FROM asked JOIN won USING (key)
       )
       SELECT asked.key, won.key IS NOT NULL AS won, earlier.state, earlier.outcome
         FROM asked LEFT JOIN won USING (key) LEFT JOIN ${this.claims} AS earlier ON earlier.key = asked.key`,
      [
        unique.map((ask) => ask.key),
        column((c) => c.worker),
        column((c) => c.instance),
        column((c) => c.runId),
        column((c) => c.stepId),
        column((c) => c.attempt),
        column((c) => c.phase),
      ],
    );
    const byKey = new Map(rows.map((row) => [row.key, row]));
    const answered = new Set<string>();
    return asks.map(({ key }) => {
      const row = byKey.get(key);
      if (row === undefined) throw new Error(`PostgresLedger: the claim of "${key}" got no answer`);
      if (answered.has(key)) return { key, won: false, state: row.won ? 'running' : row.state, outcome: row.outcome };
      answered.add(key);
      return row;
    });
  }

  /** One UPDATE for the tick; a key that is not a running claim (or is completed twice in it) fails alone. */
  private async completeAll(asks: readonly { key: string; outcome: Outcome }[]): Promise<(true | Error)[]> {
    const unique = firstOfEachKey(asks);
    const { rows } = await this.pool.query<{ key: string }>(
      `UPDATE ${this.claims} AS c SET state = 'done', outcome = done.outcome, completed_at = now()
         FROM unnest($1::text[], $2::text[]) AS done (key, outcome)
        WHERE c.key = done.key AND c.state = 'running'
        RETURNING c.key`,
      [unique.map((ask) => ask.key), unique.map((ask) => JSON.stringify(ask.outcome))],
    );
    const updated = new Set(rows.map((row) => row.key));
    return asks.map(({ key }) => {
      if (updated.delete(key)) return true;
      return new Error(`PostgresLedger: cannot complete "${key}": it is not a running claim`);
    });
  }

  async recordExecution(key: string, ctx: ClaimContext): Promise<void> {
    await this.pool.query(
      `INSERT INTO ${this.executions} (key, worker, instance, run_id, step_id, attempt, phase) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [key, ctx.worker, ctx.instance, ctx.runId, ctx.stepId, ctx.attempt, ctx.phase],
    );
  }

  /** Keys whose handler started more than once, across every instance: anything above 0 breaks the idempotency guarantee. */
  async duplicateExecutions(): Promise<number> {
    const { rows } = await this.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM (SELECT key FROM ${this.executions} GROUP BY key HAVING count(*) > 1) AS d`,
    );
    return rows[0]?.n ?? 0;
  }

  async executionCount(): Promise<number> {
    const { rows } = await this.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${this.executions}`);
    return rows[0]?.n ?? 0;
  }

  async close(): Promise<void> {
    if (this.ownsPool) await this.pool.end();
  }

  private async createTables(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const client = await this.pool.connect();
      try {
        await client.query('BEGIN');
        await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`orchestron.worker-ledger:${this.schema}`]);
        // The same lock as the event store's migrations: two concurrent CREATE SCHEMA IF NOT EXISTS can fail.
        await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`orchestron.schema:${this.schema}`]);
        await client.query(`CREATE SCHEMA IF NOT EXISTS "${this.schema}"`);
        await client.query(`CREATE TABLE IF NOT EXISTS ${this.claims} (
          key          text        PRIMARY KEY,
          state        text        NOT NULL CHECK (state IN ('running', 'done')),
          outcome      text,
          worker       text        NOT NULL,
          instance     text        NOT NULL,
          run_id       text        NOT NULL,
          step_id      text        NOT NULL,
          attempt      integer     NOT NULL,
          phase        text        NOT NULL,
          claimed_at   timestamptz NOT NULL DEFAULT now(),
          completed_at timestamptz
        )`);
        await client.query(`CREATE TABLE IF NOT EXISTS ${this.executions} (
          seq        bigserial   PRIMARY KEY,
          key        text        NOT NULL,
          worker     text        NOT NULL,
          instance   text        NOT NULL,
          run_id     text        NOT NULL,
          step_id    text        NOT NULL,
          attempt    integer     NOT NULL,
          phase      text        NOT NULL,
          started_at timestamptz NOT NULL DEFAULT now()
        )`);
        await client.query(`CREATE INDEX IF NOT EXISTS worker_executions_key ON ${this.executions} (key)`);
        await client.query('COMMIT');
        return;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        // The schema may be created at the same moment by another component (the event store) under its own lock.
        if (attempt < 3 && CREATE_RACES.has((error as { code?: string }).code ?? '')) continue;
        throw error;
      } finally {
        client.release();
      }
    }
  }
}

/**
 * Each key's first ask (the one a later ask with the same key loses to), sorted by key: two instances' statements
 * then take their rows' locks in the same order, and cannot deadlock on keys they both claim.
 */
function firstOfEachKey<T extends { readonly key: string }>(asks: readonly T[]): T[] {
  const first = new Map<string, T>();
  for (const ask of asks) if (!first.has(ask.key)) first.set(ask.key, ask);
  return [...first.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** Without a listener an idle connection's error would end the process; without a callback it is still said. */
function reportPoolError(error: Error): void {
  process.stderr.write(
    `${JSON.stringify({ time: new Date().toISOString(), level: 'warn', msg: 'idle PostgreSQL connection of the worker ledger failed', error: error.message })}\n`,
  );
}
