import Database from 'better-sqlite3';
import type { IdempotencyLedger, Outcome } from '@orchestron/worker-sdk';

/**
 * The example workers' idempotency ledger and side-effect log, in one SQLite file. Recording an outcome and
 * counting the execution happen in one transaction, so the execution count is exactly the work done.
 */
export class SqliteLedger implements IdempotencyLedger {
  private readonly db: Database.Database;
  private readonly find: Database.Statement<[string], { outcome: string }>;
  private readonly insert: Database.Transaction<(key: string, outcome: string, ctx: { runId: string; stepId: string; attempt: number; phase: string; worker: string }) => void>;

  constructor(path: string) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS outcomes (key TEXT PRIMARY KEY, outcome TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS executions (seq INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL, run_id TEXT NOT NULL, step_id TEXT NOT NULL,
        attempt INTEGER NOT NULL, phase TEXT NOT NULL, worker TEXT NOT NULL, ok INTEGER NOT NULL, at TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS executions_run ON executions (run_id);`);
    this.find = this.db.prepare('SELECT outcome FROM outcomes WHERE key = ?');
    // REPLACE, not a unique-key failure: a second execution must show up in the log, not roll itself back.
    const putOutcome = this.db.prepare('INSERT OR REPLACE INTO outcomes (key, outcome) VALUES (?, ?)');
    const putExecution = this.db.prepare('INSERT INTO executions (key, run_id, step_id, attempt, phase, worker, ok, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    this.insert = this.db.transaction((key, outcome, ctx) => {
      putExecution.run(key, ctx.runId, ctx.stepId, ctx.attempt, ctx.phase, ctx.worker, JSON.parse(outcome).ok ? 1 : 0, new Date().toISOString());
      putOutcome.run(key, outcome);
    });
  }

  lookup(key: string): Outcome | undefined {
    const row = this.find.get(key);
    return row ? (JSON.parse(row.outcome) as Outcome) : undefined;
  }

  record(key: string, outcome: Outcome, context: { runId: string; stepId: string; attempt: number; phase: string; worker: string }): void {
    this.insert(key, JSON.stringify(outcome), context);
  }

  executions(runId?: string): { key: string; runId: string; stepId: string; attempt: number; phase: string; worker: string; ok: boolean }[] {
    const rows = runId === undefined
      ? this.db.prepare('SELECT key, run_id, step_id, attempt, phase, worker, ok FROM executions ORDER BY seq').all()
      : this.db.prepare('SELECT key, run_id, step_id, attempt, phase, worker, ok FROM executions WHERE run_id = ? ORDER BY seq').all(runId);
    return (rows as { key: string; run_id: string; step_id: string; attempt: number; phase: string; worker: string; ok: number }[]).map((r) => ({
      key: r.key, runId: r.run_id, stepId: r.step_id, attempt: r.attempt, phase: r.phase, worker: r.worker, ok: r.ok === 1,
    }));
  }

  close(): void {
    this.db.close();
  }
}
