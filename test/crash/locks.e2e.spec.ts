import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { api, startServer } from '../support/server-process.ts';
import type { ServerProcess } from '../support/server-process.ts';

/**
 * Resource locks across kill -9 on the embedded tier: runs whose charge step takes its account's lock (four accounts,
 * so most runs wait), the server killed with SIGKILL twice mid-flight and restarted. Every run completes; for each
 * account the charges never overlap (each runs between its release for the lock and its completion, and the next
 * is released only after that), and the lock table ends with every lock released.
 */
const RUNS = 32;
const KILLS = 2;
const ACCOUNTS = 4;

const DEFINITION = `
id: locked-charge
version: 1
defaults: { timeout: 10s }
steps:
  charge:
    worker: payments
    action: charge
    input: { vendor: "\${{ input.vendor }}", amount: "\${{ input.amount }}" }
    locks: [{ name: "account-\${{ input.account }}" }]
`;

type Event = { revision: number; type: string; data: { at?: number; send?: boolean; stepId?: string } };

describe('resource locks across kill -9 (embedded tier)', () => {
  it(`${RUNS} runs on ${ACCOUNTS} accounts survive ${KILLS} kill -9s: no overlap per account, no lock left`, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'orchestron-locks-crash-'));
    const examples = mkdtempSync(join(tmpdir(), 'orchestron-locks-examples-'));
    writeFileSync(join(examples, 'locked-charge.yaml'), DEFINITION);
    const env = { ORCHESTRON_WORK_MS: '40', ORCHESTRON_EXAMPLES: examples };
    let server: ServerProcess = await startServer(dataDir, env);
    const acknowledged = new Map<string, { runId: string; account: string }>();

    const launch = async (i: number): Promise<void> => {
      const account = `A${i % ACCOUNTS}`;
      for (;;) {
        try {
          const res = await api<{ run: { id: string } }>(server, 'POST', '/v1/runs', {
            definitionId: 'locked-charge',
            idempotencyKey: `lock-crash-${i}`,
            input: { vendor: 'acme', amount: 10 + i, account },
          });
          if (res.status === 201 || res.status === 200) {
            acknowledged.set(`lock-crash-${i}`, { runId: res.body.run.id, account });
            return;
          }
          throw new Error(`start ${i}: HTTP ${res.status} ${JSON.stringify(res.body)}`);
        } catch (error) {
          if (error instanceof Error && error.message.startsWith('start ')) throw error;
          await new Promise((r) => setTimeout(r, 100)); // the server was down: retry with the same key
        }
      }
    };

    const perWave = Math.ceil(RUNS / (KILLS + 1));
    let kills = 0;
    for (let wave = 0; wave <= KILLS; wave++) {
      const starts = [];
      for (let i = wave * perWave; i < Math.min(RUNS, (wave + 1) * perWave); i++) starts.push(launch(i));
      if (wave < KILLS) {
        await new Promise((r) => setTimeout(r, 250 + wave * 100));
        await server.kill('SIGKILL');
        kills++;
        server = await startServer(dataDir, env);
      }
      await Promise.all(starts);
    }

    const deadline = Date.now() + 120_000;
    for (;;) {
      const runs = (await api<{ runs: { id: string; status: string }[] }>(server, 'GET', '/v1/runs?limit=1000')).body
        .runs;
      if (runs.length === RUNS && runs.every((r) => r.status === 'completed')) break;
      if (Date.now() > deadline)
        throw new Error(
          `runs not completed: ${runs.filter((r) => r.status !== 'completed').map((r) => `${r.id}=${r.status}`)}`,
        );
      await new Promise((r) => setTimeout(r, 250));
    }

    // Per account: each charge ran between its last release (the lock granted) and its completion.
    const spans = new Map<string, { from: number; to: number; runId: string }[]>();
    for (const { runId, account } of acknowledged.values()) {
      const events = (await api<{ events: Event[] }>(server, 'GET', `/v1/runs/${runId}/events`)).body.events;
      const from = events.filter((e) => e.type === 'StepReleased' && e.data.send === true).at(-1)?.data.at;
      const to = events.find((e) => e.type === 'StepCompleted')?.data.at;
      expect(events.some((e) => e.type === 'StepHeld')).toBe(true);
      if (from === undefined || to === undefined) throw new Error(`run ${runId} has no release or completion`);
      spans.set(account, [...(spans.get(account) ?? []), { from, to, runId }]);
    }
    const overlaps: string[] = [];
    for (const [account, list] of spans) {
      const sorted = list.sort((a, b) => a.from - b.from);
      for (let i = 1; i < sorted.length; i++)
        if (sorted[i]!.from < sorted[i - 1]!.to)
          overlaps.push(`${account}: ${sorted[i - 1]!.runId} / ${sorted[i]!.runId}`);
    }

    await server.kill('SIGTERM');
    const db = new Database(join(dataDir, 'events.sqlite'), { readonly: true });
    const count = (type: string) =>
      (
        db.prepare("SELECT COUNT(*) AS n FROM events WHERE stream_id = 'orchestron-locks' AND type = ?").get(type) as {
          n: number;
        }
      ).n;
    const requested = count('LocksRequested');
    const released = count('LocksReleased');
    db.close();
    process.stdout.write(
      `locks crash test: runs=${acknowledged.size} kills=${kills} accounts=${ACCOUNTS} overlaps=${overlaps.length} ` +
        `locks-requested=${requested} locks-released=${released}\n`,
    );
    expect(kills).toBe(KILLS);
    expect(acknowledged.size).toBe(RUNS);
    expect(overlaps).toEqual([]);
    expect(requested).toBe(RUNS);
    expect(released).toBe(RUNS);
  }, 240_000);
});
