import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import Database from 'better-sqlite3';
import type { ClaimContext } from '@orchestron/worker-sdk';
import { describeIdempotencyLedgerConformance } from '@orchestron/worker-sdk/testing';
import { SqliteLedger } from './index.ts';

const freshPath = (): string => join(mkdtempSync(join(tmpdir(), 'orchestron-ledger-')), 'ledger.sqlite');

// The twin opens the same file on its own connection, as a second process would.
describeIdempotencyLedgerConformance(
  'sqlite',
  async () => {
    const path = freshPath();
    const ledger = new SqliteLedger(path);
    const twin = new SqliteLedger(path);
    return {
      ledger,
      twin,
      close: async () => {
        ledger.close();
        twin.close();
      },
    };
  },
  { recordsExecutions: true },
);

const ctx = (key: string, instance: string): ClaimContext => ({
  runId: key.split('/')[0] ?? key,
  stepId: 's',
  attempt: 1,
  phase: 'execute',
  worker: 'mail',
  instance,
});

describe('SqliteLedger', () => {
  it('logs every handler start, so a key started twice counts as a duplicate', async () => {
    const ledger = new SqliteLedger(freshPath());
    await ledger.recordExecution('r1/s/1', ctx('r1/s/1', 'a'));
    await ledger.recordExecution('r2/s/1', ctx('r2/s/1', 'a'));
    expect(await ledger.duplicateExecutions()).toBe(0);
    await ledger.recordExecution('r1/s/1', ctx('r1/s/1', 'b'));
    expect(await ledger.duplicateExecutions()).toBe(1);
    expect(await ledger.executionCount()).toBe(3);
    expect(ledger.executions('r1').map((e) => e.instance)).toEqual(['a', 'b']);
    ledger.close();
  });

  it('takes a tick of claims and completions together, one winner per key, and fails only the bad completion', async () => {
    const ledger = new SqliteLedger(freshPath());
    const keys = Array.from({ length: 50 }, (_, i) => `t${i}/s/1`);
    const claims = await Promise.all([...keys, keys[0]!].map((key) => ledger.claim(key, ctx(key, 'a'))));
    expect(claims.filter((c) => c.state === 'claimed')).toHaveLength(50);
    expect(claims[0]).toEqual({ state: 'claimed', executionRecorded: true });
    expect(claims[50]).toEqual({ state: 'running' });
    const done = await Promise.allSettled(
      [...keys, keys[1]!].map((key) => ledger.complete(key, { ok: true, output: { key } })),
    );
    expect(done.filter((d) => d.status === 'fulfilled')).toHaveLength(50);
    expect((done[50] as PromiseRejectedResult).reason.message).toMatch(/cannot complete "t1\/s\/1"/);
    expect(await ledger.claim(keys[1]!, ctx(keys[1]!, 'b'))).toEqual({
      state: 'done',
      outcome: { ok: true, output: { key: keys[1] } },
    });
    expect(await ledger.executionCount()).toBe(50);
    expect(await ledger.duplicateExecutions()).toBe(0);
    ledger.close();
  });

  it('refuses to complete a key nobody claimed', async () => {
    const ledger = new SqliteLedger(freshPath());
    await expect(ledger.complete('nobody/s/1', { ok: true, output: null })).rejects.toThrow(
      /cannot complete "nobody\/s\/1": it is not a running claim/,
    );
    ledger.close();
  });

  it('takes over a ledger file from before claims: its outcomes stay done and its executions stay counted', async () => {
    const path = freshPath();
    const old = new Database(path);
    old.exec(`CREATE TABLE outcomes (key TEXT PRIMARY KEY, outcome TEXT NOT NULL);
      CREATE TABLE executions (seq INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL, run_id TEXT NOT NULL, step_id TEXT NOT NULL,
        attempt INTEGER NOT NULL, phase TEXT NOT NULL, worker TEXT NOT NULL, ok INTEGER NOT NULL, at TEXT NOT NULL);
      CREATE INDEX executions_run ON executions (run_id);
      INSERT INTO outcomes VALUES ('r/s/1', '{"ok":true,"output":{"n":1}}');
      INSERT INTO executions (key, run_id, step_id, attempt, phase, worker, ok, at) VALUES ('r/s/1', 'r', 's', 1, 'execute', 'mail', 1, '2026-01-01T00:00:00Z');`);
    old.close();
    const ledger = new SqliteLedger(path);
    expect(await ledger.claim('r/s/1', ctx('r/s/1', 'a'))).toEqual({
      state: 'done',
      outcome: { ok: true, output: { n: 1 } },
    });
    expect(ledger.executions('r')).toEqual([
      { key: 'r/s/1', runId: 'r', stepId: 's', attempt: 1, phase: 'execute', worker: 'mail', instance: '' },
    ]);
    ledger.close();
  });
});

describe('SqliteLedger with a claim whose process died', () => {
  const MODULE = new URL('./sqlite-ledger.ts', import.meta.url).href;
  // Another process claims `key` on the file, says so, and waits to be killed.
  const claimInAChild = (path: string, key: string): Promise<ChildProcess> =>
    new Promise((resolve, reject) => {
      const script = `const { SqliteLedger } = await import(${JSON.stringify(MODULE)});
        const ledger = new SqliteLedger(${JSON.stringify(path)});
        const claim = await ledger.claim(${JSON.stringify(key)}, ${JSON.stringify(ctx(key, 'child'))});
        process.stdout.write(claim.state + '\\n');
        setInterval(() => undefined, 1000);`;
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let err = '';
      child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
      child.stdout.once('data', (chunk: Buffer) =>
        chunk.toString().trim() === 'claimed' ? resolve(child) : reject(new Error(`child: ${chunk.toString()} ${err}`)),
      );
      child.once('exit', (code) => reject(new Error(`child exited ${code}: ${err}`)));
    });
  const kill = (child: ChildProcess): Promise<void> =>
    new Promise((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });

  it("leaves a live process its claim, and ends a dead one's as a retryable failure, once, without running it", async () => {
    const path = freshPath();
    const child = await claimInAChild(path, 'r/s/1');
    const ledger = new SqliteLedger(path);
    try {
      expect(await ledger.claim('r/s/1', ctx('r/s/1', 'a'))).toEqual({ state: 'running' });
    } finally {
      await kill(child);
    }
    const abandoned = await ledger.claim('r/s/1', ctx('r/s/1', 'a'));
    expect(abandoned).toMatchObject({
      state: 'done',
      outcome: { ok: false, error: { code: 'WORKER.CLAIM_ABANDONED', retryable: true } },
    });
    const message = abandoned.state === 'done' && !abandoned.outcome.ok ? abandoned.outcome.error.message : '';
    expect(message).toMatch(new RegExp(`attempt 1 of step "s" was claimed by process ${child.pid} on .*, which died`));
    // Stored: a later delivery reports the same outcome, and the key's handler started once, in the dead process.
    expect(await ledger.claim('r/s/1', ctx('r/s/1', 'b'))).toEqual(abandoned);
    expect(ledger.executions('r').map((e) => e.instance)).toEqual(['child']);
    ledger.close();
  });

  it('leaves a claim from before owners were kept running: nobody can tell whether its process lives', async () => {
    const path = freshPath();
    const ledger = new SqliteLedger(path);
    await ledger.claim('r/s/1', ctx('r/s/1', 'a'));
    const raw = new Database(path);
    raw.exec("UPDATE claims SET owner = NULL WHERE key = 'r/s/1'");
    raw.close();
    const twin = new SqliteLedger(path);
    expect(await twin.claim('r/s/1', ctx('r/s/1', 'b'))).toEqual({ state: 'running' });
    twin.close();
    ledger.close();
  });
});
