import Database from 'better-sqlite3';
import DataLoader from 'dataloader';
import { createPrivately } from '@orchestron/store-sqlite';
import type { ClaimContext, ClaimResult, IdempotencyLedger, Outcome } from '@orchestron/worker-sdk';
import { currentOwner, ownerIsGone, parseOwner } from './process-owner.ts';

export interface ExecutionRecord {
  readonly key: string;
  readonly runId: string;
  readonly stepId: string;
  readonly attempt: number;
  readonly phase: string;
  readonly worker: string;
  readonly instance: string;
}

/**
 * The example workers' idempotency ledger in one SQLite file, for the embedded tier: processes on one machine
 * may share the file (a claim is one INSERT … ON CONFLICT DO NOTHING, which SQLite serializes across
 * processes). `executions` logs every handler start, apart from the claims, so a crash test can count
 * attempts that ran twice.
 *
 * A claim records the process that made it. A delivery that finds a key still running under a process that has
 * died (killed mid-attempt, the machine rebooted) ends that claim as a retryable failure, WORKER.CLAIM_ABANDONED,
 * and reports it: the orchestrator then retries under a new key at once, where it would otherwise wait out the
 * attempt's timeout. The key itself never runs twice.
 *
 * The claims asked for in one tick are one transaction, each winner's execution logged in it, and so are the
 * completions: one fsync a tick where there were three a step (ADR 35).
 */
export class SqliteLedger implements IdempotencyLedger {
  private readonly db: Database.Database;
  private readonly insertClaim: Database.Statement<
    [string, string, string, string, string, number, string, string, string]
  >;
  private readonly findClaim: Database.Statement<
    [string],
    { state: string; outcome: string | null; owner: string | null; attempt: number; step_id: string }
  >;
  private readonly finish: Database.Statement<[string, string, string]>;
  private readonly abandon: Database.Statement<[string, string, string, string]>;
  private readonly owner = JSON.stringify(currentOwner());
  /** Owners found dead: they stay dead. */
  private readonly gone = new Set<string>();
  private readonly logExecution: Database.Statement<[string, string, string, number, string, string, string, string]>;
  private readonly claimed: DataLoader<{ key: string; ctx: ClaimContext }, ClaimResult>;
  private readonly completed: DataLoader<{ key: string; outcome: Outcome }, true>;

  constructor(path: string) {
    createPrivately(path);
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    // Another process holding the write lock makes a claim wait, not fail.
    this.db.pragma('busy_timeout = 5000');
    this.db.transaction(() => this.migrate())();
    this.insertClaim = this.db
      .prepare(`INSERT INTO claims (key, state, worker, instance, run_id, step_id, attempt, phase, claimed_at, owner)
      VALUES (?, 'running', ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING`);
    this.findClaim = this.db.prepare('SELECT state, outcome, owner, attempt, step_id FROM claims WHERE key = ?');
    this.finish = this.db.prepare(
      "UPDATE claims SET state = 'done', outcome = ?, completed_at = ? WHERE key = ? AND state = 'running'",
    );
    this.abandon = this.db.prepare(
      "UPDATE claims SET state = 'done', outcome = ?, completed_at = ? WHERE key = ? AND state = 'running' AND owner = ?",
    );
    this.logExecution = this.db.prepare(
      'INSERT INTO executions (key, run_id, step_id, attempt, phase, worker, instance, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    const batching = { cache: false, maxBatchSize: 500 } as const;
    const claimAll = this.db.transaction((asks: readonly { key: string; ctx: ClaimContext }[]) => this.claimEach(asks));
    const completeAll = this.db.transaction((asks: readonly { key: string; outcome: Outcome }[]) =>
      this.completeEach(asks),
    );
    this.claimed = new DataLoader(async (asks) => claimAll(asks), batching);
    this.completed = new DataLoader(async (asks) => completeAll(asks), batching);
  }

  /** With the other claims of its tick, in one transaction; a winner's execution is logged in it. */
  claim(key: string, ctx: ClaimContext): Promise<ClaimResult> {
    return this.claimed.load({ key, ctx });
  }

  async complete(key: string, outcome: Outcome): Promise<void> {
    await this.completed.load({ key, outcome });
  }

  /** A key asked for twice in one batch is claimed once: the later ask finds it running, as it would a tick later. */
  private claimEach(asks: readonly { key: string; ctx: ClaimContext }[]): ClaimResult[] {
    const at = new Date().toISOString();
    return asks.map(({ key, ctx }) => {
      const { worker, instance, runId, stepId, attempt, phase } = ctx;
      if (this.insertClaim.run(key, worker, instance, runId, stepId, attempt, phase, at, this.owner).changes === 1) {
        this.logExecution.run(key, runId, stepId, attempt, phase, worker, instance, at);
        return { state: 'claimed', executionRecorded: true };
      }
      const row = this.findClaim.get(key);
      if (row === undefined) throw new Error(`SqliteLedger: the claim of "${key}" conflicted but no row holds it`);
      if (row.state === 'done') return { state: 'done', outcome: JSON.parse(row.outcome ?? 'null') as Outcome };
      return this.abandonIfOwnerDied(key, row, at);
    });
  }

  /** A running claim whose process is dead ends as a retryable failure, once: the UPDATE names the dead owner. */
  private abandonIfOwnerDied(
    key: string,
    row: { owner: string | null; attempt: number; step_id: string },
    at: string,
  ): ClaimResult {
    const owner = parseOwner(row.owner);
    if (owner === null || row.owner === null) return { state: 'running' };
    if (!this.gone.has(row.owner)) {
      if (!ownerIsGone(owner)) return { state: 'running' };
      this.gone.add(row.owner);
    }
    const outcome: Outcome = {
      ok: false,
      error: {
        code: 'WORKER.CLAIM_ABANDONED',
        message:
          `attempt ${row.attempt} of step "${row.step_id}" was claimed by process ${owner.pid} on ${owner.host}, ` +
          'which died before it finished: whether its effects happened is unknown',
        retryable: true,
      },
    };
    return this.abandon.run(JSON.stringify(outcome), at, key, row.owner).changes === 1
      ? { state: 'done', outcome }
      : { state: 'running' };
  }

  /** A key that is not a running claim fails alone, not its batch. */
  private completeEach(asks: readonly { key: string; outcome: Outcome }[]): (true | Error)[] {
    const at = new Date().toISOString();
    return asks.map(({ key, outcome }) =>
      this.finish.run(JSON.stringify(outcome), at, key).changes === 1
        ? true
        : new Error(`SqliteLedger: cannot complete "${key}": it is not a running claim`),
    );
  }

  async recordExecution(key: string, ctx: ClaimContext): Promise<void> {
    this.logExecution.run(
      key,
      ctx.runId,
      ctx.stepId,
      ctx.attempt,
      ctx.phase,
      ctx.worker,
      ctx.instance,
      new Date().toISOString(),
    );
  }

  /** Handler starts, oldest first; of one run when `runId` is given. */
  executions(runId?: string): ExecutionRecord[] {
    const columns = 'key, run_id AS runId, step_id AS stepId, attempt, phase, worker, instance';
    return (
      runId === undefined
        ? this.db.prepare(`SELECT ${columns} FROM executions ORDER BY seq`).all()
        : this.db.prepare(`SELECT ${columns} FROM executions WHERE run_id = ? ORDER BY seq`).all(runId)
    ) as ExecutionRecord[];
  }

  /** Keys whose handler started more than once: anything above 0 breaks the idempotency guarantee. */
  async duplicateExecutions(): Promise<number> {
    return (
      this.db
        .prepare('SELECT COUNT(*) AS n FROM (SELECT key FROM executions GROUP BY key HAVING COUNT(*) > 1)')
        .get() as { n: number }
    ).n;
  }

  async executionCount(): Promise<number> {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM executions').get() as { n: number }).n;
  }

  close(): void {
    this.db.close();
  }

  private migrate(): void {
    const columns = (table: string): string[] =>
      (this.db.prepare(`SELECT name FROM pragma_table_info('${table}')`).all() as { name: string }[]).map(
        (c) => c.name,
      );
    // Ledgers written before claims existed logged only finished executions, without the instance.
    const legacyExecutions = columns('executions').length > 0 && !columns('executions').includes('instance');
    if (legacyExecutions)
      this.db.exec('DROP INDEX IF EXISTS executions_run; ALTER TABLE executions RENAME TO executions_legacy;');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS claims (key TEXT PRIMARY KEY, state TEXT NOT NULL CHECK (state IN ('running', 'done')), outcome TEXT,
        worker TEXT NOT NULL, instance TEXT NOT NULL, run_id TEXT NOT NULL, step_id TEXT NOT NULL, attempt INTEGER NOT NULL, phase TEXT NOT NULL,
        claimed_at TEXT NOT NULL, completed_at TEXT);
      CREATE TABLE IF NOT EXISTS executions (seq INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL, run_id TEXT NOT NULL, step_id TEXT NOT NULL,
        attempt INTEGER NOT NULL, phase TEXT NOT NULL, worker TEXT NOT NULL, instance TEXT NOT NULL, at TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS executions_run ON executions (run_id);
      CREATE INDEX IF NOT EXISTS executions_key ON executions (key);`);
    if (legacyExecutions) {
      this.db.exec(`INSERT INTO executions (key, run_id, step_id, attempt, phase, worker, instance, at)
        SELECT key, run_id, step_id, attempt, phase, worker, '', at FROM executions_legacy ORDER BY seq;
        DROP TABLE executions_legacy;`);
    }
    // Ledgers written before claims recorded their process: those claims have no owner to check.
    if (!columns('claims').includes('owner')) this.db.exec('ALTER TABLE claims ADD COLUMN owner TEXT');
    if (columns('outcomes').length > 0) {
      this.db
        .exec(`INSERT OR IGNORE INTO claims (key, state, outcome, worker, instance, run_id, step_id, attempt, phase, claimed_at, completed_at)
        SELECT key, 'done', outcome, '', '', '', '', 0, '', '', '' FROM outcomes;
        DROP TABLE outcomes;`);
    }
  }
}
