import { describe, expect, it } from '@jest/globals';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { eventually } from '@orchestron/runtime/testing';
import { api, startServer } from '../support/server-process.ts';

/**
 * Guarantee 4 on the embedded tier, where the workers die with the server: an attempt whose handler was running
 * when the server was killed is not left to its timeout. The restarted server's worker finds the attempt claimed
 * by a dead process, ends it as WORKER.CLAIM_ABANDONED (retryable, its key never run twice), and the next attempt
 * runs at once. The step's timeout is 120 s, past this test's bound, so only that path can finish the run in time.
 */
const DEFINITION = {
  id: 'abandoned-claim',
  version: 1,
  defaults: { retry: { maxAttempts: 3, backoff: 'fixed', initialDelay: '100ms' }, timeout: '120s' },
  steps: { welcome: { worker: 'mail', input: { to: 'new.hire@example.com' } } },
};

type Event = {
  type: string;
  data: { stepId?: string; attempt?: number; error?: { code: string; retryable: boolean } };
};

describe('an attempt cut short by kill -9 on the embedded tier', () => {
  it('fails as abandoned when the server comes back, and the next attempt completes the run', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'orchestron-abandoned-'));
    let server = await startServer(dataDir, { ORCHESTRON_WORK_MS: '60000' });
    try {
      expect((await api(server, 'POST', '/v1/definitions', DEFINITION)).status).toBe(201);
      const started = await api<{ run: { id: string } }>(server, 'POST', '/v1/runs', {
        definitionId: DEFINITION.id,
        input: {},
      });
      expect(started.status).toBe(201);
      const runId = started.body.run.id;
      const ledgerFile = join(dataDir, 'worker-ledger.sqlite');
      await eventually(
        'the handler to hold its claim',
        () => {
          const ledger = new Database(ledgerFile, { readonly: true, fileMustExist: true });
          try {
            const row = ledger.prepare("SELECT state FROM claims WHERE run_id = ? AND state = 'running'").get(runId);
            return row === undefined ? undefined : true;
          } finally {
            ledger.close();
          }
        },
        45_000,
      );
      await server.kill('SIGKILL');
      server = await startServer(dataDir, { ORCHESTRON_WORK_MS: '20' });

      const status = await eventually(
        'the run to end',
        async () => {
          const res = await api<{ run: { status: string } }>(server, 'GET', `/v1/runs/${runId}`);
          return ['completed', 'failed', 'compensated', 'needs_operator'].includes(res.body.run.status)
            ? res.body.run.status
            : undefined;
        },
        45_000,
      );
      expect(status).toBe('completed');
      const { events } = (await api<{ events: Event[] }>(server, 'GET', `/v1/runs/${runId}/events`)).body;
      const failures = events.filter((e) => e.type === 'StepAttemptFailed').map((e) => e.data);
      expect(failures).toMatchObject([
        { stepId: 'welcome', attempt: 1, error: { code: 'WORKER.CLAIM_ABANDONED', retryable: true } },
      ]);
      expect(events.filter((e) => e.type === 'StepCompleted').map((e) => e.data)).toMatchObject([
        { stepId: 'welcome', attempt: 2 },
      ]);
      await server.kill('SIGTERM');
      const ledger = new Database(join(dataDir, 'worker-ledger.sqlite'), { readonly: true });
      const starts = ledger.prepare('SELECT key, COUNT(*) AS n FROM executions GROUP BY key ORDER BY key').all();
      ledger.close();
      expect(starts).toEqual([
        { key: `${runId}/welcome/1`, n: 1 },
        { key: `${runId}/welcome/2`, n: 1 },
      ]);
    } finally {
      await server.kill('SIGKILL');
    }
  }, 120_000);
});
