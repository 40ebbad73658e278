import { describe, expect, it } from '@jest/globals';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { api, startServer } from '../support/server-process.ts';
import type { ServerProcess } from '../support/server-process.ts';
import { withKafkaGroups } from '@orchestron/bus-kafka/testing';

/**
 * Guarantee 10 on the embedded tier: 120 runs, the server killed with SIGKILL several times mid-flight and
 * restarted; every run reaches the outcome it would reach without a crash, no acknowledged event is lost,
 * and no attempt is executed twice.
 */
const RUNS = 120;
const KILLS = 3;

type Scenario = { readonly simulate: Record<string, string>; readonly expected: 'completed' | 'compensated' };
const SCENARIOS: readonly Scenario[] = [
  { simulate: {}, expected: 'completed' },
  { simulate: { 'send-welcome': 'fail-once' }, expected: 'completed' },
  { simulate: { 'create-workspace': 'fail-always' }, expected: 'compensated' },
  { simulate: { 'assign-permissions': 'fail-terminal' }, expected: 'compensated' },
  { simulate: { 'create-account': 'fail-once', 'notify-team': 'fail-once' }, expected: 'completed' },
];

type RunSummary = { id: string; status: string };
type Event = { revision: number; type: string; data: unknown };

const TIERS: readonly { name: string; env: Record<string, string> }[] = [
  { name: 'embedded (SQLite, in-process bus)', env: {} },
  {
    name: 'production (PostgreSQL, Kafka)',
    env: {
      ORCHESTRON_STORE: 'postgres',
      ORCHESTRON_PG_SCHEMA: `orchestron_crash_${process.pid}_${Date.now().toString(36)}`,
      ORCHESTRON_BUS: 'kafka',
      ORCHESTRON_KAFKA_SESSION_TIMEOUT_MS: '6000',
    },
  },
];

describe.each(TIERS)('crash safety on the $name tier', ({ name, env: tierEnv }) => {
  it(
    `${RUNS} runs survive ${KILLS} kill -9s with nothing lost and nothing done twice`,
    () =>
      exclusive(tierEnv, name, async () => {
        const dataDir = mkdtempSync(join(tmpdir(), 'orchestron-crash-'));
        const env = { ORCHESTRON_WORK_MS: '30', ...tierEnv };
        let server: ServerProcess = await startServer(dataDir, env);
        const acknowledged = new Map<string, { runId: string; scenario: Scenario }>();
        const seenEvents = new Map<string, Event[]>();
        let kills = 0;
        let startErrors = 0;

        const launch = async (i: number): Promise<void> => {
          const scenario = SCENARIOS[i % SCENARIOS.length] as Scenario;
          const key = `crash-${i}`;
          for (;;) {
            try {
              const res = await api<{ run: { id: string } }>(server, 'POST', '/v1/runs', {
                definitionId: 'employee-onboarding',
                idempotencyKey: key,
                input: { email: `user${i}@example.com`, simulate: scenario.simulate },
              });
              if (res.status === 201 || res.status === 200) {
                acknowledged.set(key, { runId: res.body.run.id, scenario });
                return;
              }
              throw new Error(`start ${key}: HTTP ${res.status} ${JSON.stringify(res.body)}`);
            } catch (error) {
              if (error instanceof Error && error.message.startsWith('start ')) throw error;
              startErrors++; // the server was down: the producer retries with the same key, as a real one would
              await new Promise((r) => setTimeout(r, 100));
            }
          }
        };

        const snapshotSomeHistories = async (): Promise<void> => {
          const sample = [...acknowledged.values()].filter((_, i) => i % 7 === kills % 7).slice(0, 15);
          for (const { runId } of sample) {
            try {
              const res = await api<{ events: Event[] }>(server, 'GET', `/v1/runs/${runId}/events`);
              if (res.status === 200) seenEvents.set(runId, res.body.events);
            } catch {
              // server already gone
            }
          }
        };

        // Launch in waves, killing the server between and during them.
        const perWave = Math.ceil(RUNS / (KILLS + 1));
        for (let wave = 0; wave <= KILLS; wave++) {
          const starts = [];
          for (let i = wave * perWave; i < Math.min(RUNS, (wave + 1) * perWave); i++) starts.push(launch(i));
          if (wave < KILLS) {
            await new Promise((r) => setTimeout(r, 150 + wave * 60));
            await snapshotSomeHistories();
            await server.kill('SIGKILL');
            kills++;
            server = await startServer(dataDir, env);
          }
          await Promise.all(starts);
        }

        // Wait for every run to settle.
        const deadline = Date.now() + 240_000;
        let runs: RunSummary[] = [];
        for (;;) {
          runs = (await api<{ runs: RunSummary[] }>(server, 'GET', '/v1/runs?limit=10000')).body.runs;
          const settled = runs.filter((r) =>
            ['completed', 'failed', 'compensated', 'cancelled', 'needs_operator'].includes(r.status),
          );
          if (settled.length === acknowledged.size && runs.length === acknowledged.size) break;
          if (Date.now() > deadline)
            throw new Error(
              `runs still in flight: ${runs
                .filter((r) => !settled.includes(r))
                .map((r) => `${r.id}=${r.status}`)
                .join(', ')}`,
            );
          await new Promise((r) => setTimeout(r, 250));
        }

        const statusById = new Map(runs.map((r) => [r.id, r.status]));
        const wrong = [...acknowledged.entries()]
          .filter(([, a]) => statusById.get(a.runId) !== a.scenario.expected)
          .map(([key, a]) => `${key}: expected ${a.scenario.expected}, got ${statusById.get(a.runId)}`);

        let lost = 0;
        for (const [runId, before] of seenEvents) {
          const now = (await api<{ events: Event[] }>(server, 'GET', `/v1/runs/${runId}/events`)).body.events;
          before.forEach((e, i) => {
            const after = now[i];
            if (!after || after.type !== e.type || JSON.stringify(after.data) !== JSON.stringify(e.data)) lost++;
          });
        }

        await server.kill('SIGTERM');
        const ledger = new Database(join(dataDir, 'worker-ledger.sqlite'), { readonly: true });
        const duplicates = ledger
          .prepare('SELECT key, COUNT(*) AS n FROM executions GROUP BY key HAVING n > 1')
          .all() as { key: string; n: number }[];
        const executions = (ledger.prepare('SELECT COUNT(*) AS n FROM executions').get() as { n: number }).n;
        ledger.close();

        const count = (status: string) => runs.filter((r) => r.status === status).length;
        process.stdout.write(
          `crash test [${name}]: runs=${acknowledged.size} kills=${kills} completed=${count('completed')} compensated=${count('compensated')} ` +
            `other=${runs.length - count('completed') - count('compensated')} wrong-outcome=${wrong.length} events-checked=${[...seenEvents.values()].reduce((n, e) => n + e.length, 0)} ` +
            `lost=${lost} executions=${executions} duplicate-attempts=${duplicates.length} start-retries=${startErrors}\n`,
        );
        expect(kills).toBe(KILLS);
        expect(acknowledged.size).toBe(RUNS);
        expect(wrong).toEqual([]);
        expect(lost).toBe(0);
        expect(duplicates).toEqual([]);
      }),
    420_000,
  );
});

/** On Kafka the test uses the services' real consumer groups: one such test at a time per machine. */
function exclusive(env: Record<string, string>, name: string, body: () => Promise<void>): Promise<void> {
  return env.ORCHESTRON_BUS === 'kafka' ? withKafkaGroups(`crash test on ${name}`, body) : body();
}
