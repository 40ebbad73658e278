import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { EXAMPLE_WORKERS, killStackProcess, startStack, stopStack } from '../../tools/stack/stack.ts';
import type { Stack } from '../../tools/stack/stack.ts';
import type { CheckOptions } from '../support/stack-checks.ts';
import {
  busyInstance,
  checkRun,
  describeStuck,
  ledgerStats,
  metricSum,
  takenOver,
  traceServices,
  waitForIdleGroups,
} from '../support/stack-checks.ts';
import { eachLimited, RunDriver, StackClient } from '../support/stack-driver.ts';
import type { HistoryEvent, TrackedRun } from '../support/stack-driver.ts';
import { acquireKafkaGroups } from '@orchestron/bus-kafka/testing';
import { planRuns } from '../support/stack-scenarios.ts';
import { httpCaller, tryTakeover, tryTenants } from '../support/stack-security.ts';
import { verifyExport } from '@orchestron/audit';
import { createPublicKey } from 'node:crypto';

/**
 * The production-shaped stack end to end: every service its own process (two orchestrators, governance, two of each
 * worker, the API) on PostgreSQL and Kafka. Runs of every kind go in through the HTTP API; each must end exactly as
 * predicted from its input, also when an orchestrator and a worker are killed with SIGKILL while runs are in flight,
 * and no worker may execute an attempt twice.
 */
const PG_URL = process.env.ORCHESTRON_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const BROKERS = ['127.0.0.1:9092'];
const TAG = `${process.pid}-${Date.now().toString(36)}`;
const SCHEMA = `e2e_${process.pid}_${Date.now().toString(36)}`;
// Seven times round the onboarding mix (its 11 inputs, then the 2 denials) and 12 vendor payments, 4 of them over
// the limit: every kind of run several times over, started 16 at a time. The 200 + 20 of before checked nothing more
// and took twice as long. Phase 2 keeps its size: the runs in flight at its kills come from it.
const PHASE_1 = { onboarding: 7 * 13, payments: 12 } as const;
// `slow` keeps create-workspace busy (heartbeating) for seconds, so the workspace instance killed is mid-step.
const PHASE_2 = {
  onboarding: 120,
  payments: 12,
  extra: [{ simulate: { 'create-workspace': 'slow' as const } }],
} as const;
const ORCHESTRATOR_TO_KILL = 'orchestrator-1';
const GROUPS = [
  'orchestron-orchestrator',
  'orchestron-governance',
  ...EXAMPLE_WORKERS.map((w) => `orchestron-worker-${w}`),
];

const print = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

describe('the production-shaped stack: separate processes on PostgreSQL and Kafka', () => {
  let stack: Stack | undefined;
  let stackDir: string | undefined;
  let driver: RunDriver;
  let client: StackClient;
  const histories = new Map<string, HistoryEvent[]>();
  const wrong = new Map<string, string[]>();
  const stuck: string[] = [];
  const killed: string[] = [];
  let killedAt = 0;
  let passed = false;
  let sql: pg.Client | undefined;
  let release: (() => void) | undefined;

  beforeAll(async () => {
    release = await acquireKafkaGroups('the stack e2e test');
    await waitForIdleGroups(BROKERS, GROUPS, 300_000, print);
    sql = new pg.Client({ connectionString: PG_URL });
    await sql.connect();
    stackDir = join(mkdtempSync(join(tmpdir(), 'orchestron-stack-e2e-')), 'stack');
    const began = Date.now();
    stack = await startStack({
      dir: stackDir,
      pgUrl: PG_URL,
      pgSchema: SCHEMA,
      apiPort: 0,
      workMs: 20,
      log: () => undefined,
    });
    for (const warning of stack.warnings) print(`stack e2e: warning: ${warning}`);
    print(
      `stack e2e: ${stack.processes.length} processes up in ${((Date.now() - began) / 1000).toFixed(1)} s (schema ${SCHEMA}, logs ${stackDir}/logs)`,
    );
    client = new StackClient(stack.url, stack.keys);
    driver = new RunDriver(client, print);
  }, 420_000);

  afterAll(async () => {
    try {
      if (stackDir === undefined) return;
      await stopStack(stackDir, () => undefined);
      if (passed) {
        rmSync(dirname(stackDir), { recursive: true, force: true });
        await sql?.query(`DROP SCHEMA IF EXISTS "${SCHEMA}" CASCADE`);
      } else {
        print(`stack e2e: kept the logs in ${stackDir}/logs and PostgreSQL schema ${SCHEMA} for a look`);
      }
    } finally {
      await sql?.end();
      release?.();
    }
  }, 60_000);

  /** Reads every run's history and checks it against its plan; records what is wrong or stuck. */
  const verify = async (runs: readonly TrackedRun[], options: CheckOptions = {}): Promise<void> => {
    await eachLimited(
      runs.filter((r) => r.runId !== null),
      8,
      async (run) => {
        histories.set(run.runId as string, await client.history(run.runId as string));
      },
    );
    for (const run of runs) {
      if (!run.settled) {
        stuck.push(describeStuck(run));
        continue;
      }
      const problems = checkRun(run, histories.get(run.runId as string) ?? [], options);
      if (problems.length > 0) wrong.set(`${run.plan.key} (run ${run.runId})`, problems);
    }
  };
  const wrongOf = (runs: readonly TrackedRun[]): string[] =>
    runs.flatMap((r) => wrong.get(`${r.plan.key} (run ${r.runId})`)?.map((p) => `${r.plan.key}: ${p}`) ?? []);
  const stuckOf = (runs: readonly TrackedRun[]): string[] =>
    stuck.filter((line) => runs.some((r) => line.startsWith(`${r.plan.key} `)));

  it(`phase 1: ${PHASE_1.onboarding} onboarding and ${PHASE_1.payments} payment runs each reach their predicted outcome`, async () => {
    const plans = planRuns({ prefix: `p1-${TAG}`, ...PHASE_1 });
    const began = Date.now();
    const runs = await driver.start(plans, 1, { concurrency: 16 });
    print(`stack e2e [phase 1]: ${runs.length} runs started in ${((Date.now() - began) / 1000).toFixed(1)} s`);
    await driver.settle(runs, 'phase 1', Date.now() + 180_000);
    await verify(runs);
    expect(stuckOf(runs)).toEqual([]);
    expect(wrongOf(runs)).toEqual([]);
  }, 300_000);

  it("the security review's attacks fail on the stack: no takeover either way, and no tenant reads another's run", async () => {
    const current = stack as Stack;
    const call = httpCaller(current.url);
    const takeover = await tryTakeover(call, { producer: current.keys.producer, operator: current.keys.operator });
    print(
      `stack e2e [security]: inline v2 by a producer → HTTP ${takeover.inlineByProducer}; unflagged charge of 999,999 → ${takeover.unflaggedPayStep.status} (${takeover.unflaggedPayStep.governance?.policyId})`,
    );
    expect(takeover.inlineByProducer).toBe(403);
    expect(takeover.v2VisibleAfter).toBe(404);
    expect(takeover.unflaggedPayStep).toMatchObject({
      status: 'waiting_approval',
      attempt: 0,
      governance: { outcome: 'require_approval', policyId: 'payment-over-limit' },
    });
    const tenants = await tryTenants(call, current.keys.admin);
    expect(tenants).toEqual({
      aliceReadsOwn: 200,
      bobReadsAlice: 404,
      aliceRunTenantListed: true,
      sameKeyTwoRuns: true,
    });
  }, 120_000);

  it(`phase 2: ${PHASE_2.onboarding + PHASE_2.payments} more runs survive kill -9 of ${ORCHESTRATOR_TO_KILL} and of a busy workspace worker`, async () => {
    const current = stack as Stack;
    const plans = planRuns({ prefix: `p2-${TAG}`, ...PHASE_2 });
    let started = 0;
    const launching = driver.start(plans, 2, {
      concurrency: 16,
      onStarted: (n) => {
        started = n;
      },
    });
    launching.catch(() => undefined); // awaited below; this only keeps an early rejection from going unhandled
    // Kill once runs are in flight on both sides: 40% started and a slow workspace attempt (4 s) well under way.
    const killDeadline = Date.now() + 60_000;
    const workerToKill = async (): Promise<string | null> =>
      started < plans.length * 0.4 ? null : busyInstance(sql as pg.Client, SCHEMA, 'workspace', 300, 2_500);
    let worker = await workerToKill();
    while (worker === null) {
      if (Date.now() > killDeadline)
        throw new Error(
          `phase 2: no workspace attempt was in flight within 60 s (${started}/${plans.length} runs started); nothing to kill mid-step`,
        );
      await new Promise((r) => setTimeout(r, 100));
      worker = await workerToKill();
    }
    await killStackProcess(current, ORCHESTRATOR_TO_KILL, 'SIGKILL');
    await killStackProcess(current, worker, 'SIGKILL');
    killedAt = Date.now();
    killed.push(ORCHESTRATOR_TO_KILL, worker);
    print(
      `stack e2e [phase 2]: kill -9 ${killed.join(' and ')} after ${started}/${plans.length} starts; the survivors take over after the Kafka session timeout`,
    );
    const runs = await launching;
    await driver.settle(runs, 'phase 2', Date.now() + 240_000);
    await verify(runs, { workerKilled: true });
    expect(stuckOf(runs)).toEqual([]);
    expect(wrongOf(runs)).toEqual([]);
  }, 420_000);

  it('afterwards: no attempt executed twice, every run still as it settled, metrics and a trace across services', async () => {
    const current = stack as Stack;
    const all = driver.runs;
    const runIds = all.map((r) => r.runId).filter((id): id is string => id !== null);

    // Nothing that settled moved again (a takeover replaying old messages must not reopen a run).
    const moved: string[] = [];
    await eachLimited(
      all.filter((r) => r.settled),
      8,
      async (run) => {
        const res = await client.request<{ run?: { status: string } }>('auditor', 'GET', `/v1/runs/${run.runId}`);
        if (res.body.run?.status !== run.view?.status)
          moved.push(`${run.plan.key}: ${run.view?.status} → ${res.body.run?.status ?? `HTTP ${res.status}`}`);
      },
    );

    const ledger = await ledgerStats(sql as pg.Client, SCHEMA, runIds, killedAt, 5_000);
    const phase2 = all.filter((r) => r.phase === 2 && r.runId !== null).map((r) => r.runId as string);
    const takeovers = killed.length > 0 ? takenOver(histories, phase2, ORCHESTRATOR_TO_KILL, killedAt) : 0;
    const cutShort = killed[1] === undefined ? 0 : (ledger.cutShort.get(killed[1]) ?? 0);

    const statusCount = (status: string): number => all.filter((r) => r.settled && r.view?.status === status).length;
    const denied = all.filter(
      (r) => r.settled && r.view?.status === 'failed' && r.view.failure?.error.code === 'GOVERNANCE.DENIED',
    ).length;
    const approvals = [...histories.values()].reduce(
      (n, events) => n + events.filter((e) => e.type === 'StepApproved').length,
      0,
    );
    const completed = statusCount('completed');

    const metrics = await client.request<string>('admin', 'GET', '/metrics');
    const completedGauge = metricSum(String(metrics.body), 'orchestron_runs', { status: 'completed' });

    // One run through the API, governance's approval gate, the orchestrators and the workers.
    const traced = all.find(
      (r) => r.phase === 1 && r.view?.status === 'completed' && r.plan.expected.approvals.includes('create-account'),
    );
    const services = traced
      ? await traceServices(
          current.tracesFile,
          traced.runId as string,
          ['orchestron-api', 'orchestron-orchestrator'],
          30_000,
        )
      : new Map<string, number>();

    print(
      `stack e2e: runs=${all.length} completed=${completed} compensated=${statusCount('compensated')} failed(denied)=${denied} ` +
        `failed(terminal)=${statusCount('failed') - denied} approvals=${approvals} killed=${killed.join(',')} taken-over=${takeovers} cut-short=${cutShort} ` +
        `wrong-outcome=${wrong.size} stuck=${stuck.length} moved=${moved.length} executions=${ledger.executions} duplicate-executions=${ledger.duplicates.length} ` +
        `start-retries=${all.reduce((n, r) => n + r.startRetries, 0)} metrics-completed=${completedGauge} ` +
        `trace=${[...services].map(([s, n]) => `${s}:${n}`).join(',') || 'none'}`,
    );

    expect(all.length).toBe(PHASE_1.onboarding + PHASE_1.payments + PHASE_2.onboarding + PHASE_2.payments);
    expect(killed).toHaveLength(2);
    expect(moved).toEqual([]);
    expect(ledger.duplicates).toEqual([]);
    expect(ledger.executions).toBeGreaterThan(0);
    // The kills hit work in flight: runs the dead orchestrator had started were finished by the other one, and the
    // dead worker left attempts claimed but unfinished, which later attempts on the other instance redid.
    expect(takeovers).toBeGreaterThan(0);
    expect(cutShort).toBeGreaterThan(0);
    expect(metrics.status).toBe(200);
    expect(completedGauge).not.toBeNull();
    expect(completedGauge as number).toBeGreaterThanOrEqual(completed);
    expect(traced).toBeDefined();
    expect(services.get('orchestron-api') ?? 0).toBeGreaterThan(0);
    expect(services.get('orchestron-orchestrator') ?? 0).toBeGreaterThan(0);
    passed = wrong.size === 0 && stuck.length === 0;
  }, 180_000);

  it('an operator re-drives a compensated run over the bus, and it completes in the same stream', async () => {
    type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    const start = {
      definitionId: 'employee-onboarding',
      input: { email: 'redrive@b.c', simulate: { 'create-workspace': 'fail-always' } },
      idempotencyKey: `redrive-${TAG}`,
    };
    const statusOf = async (runId: string): Promise<string> =>
      ((await client.request<Json>('operator', 'GET', `/v1/runs/${runId}`)).body.run?.status as string) ?? 'unknown';
    const reaches = async (runId: string, status: string): Promise<string> => {
      let seen = await statusOf(runId);
      for (let i = 0; i < 240 && seen !== status; i++) {
        await new Promise((r) => setTimeout(r, 250));
        seen = await statusOf(runId);
      }
      return seen;
    };
    // 202 while the start waits in the outbox; the same key answers 200 with the run once it has started.
    let started = await client.request<Json>('producer', 'POST', '/v1/runs', start);
    for (let i = 0; i < 60 && started.status === 202; i++) {
      await new Promise((r) => setTimeout(r, 500));
      started = await client.request<Json>('producer', 'POST', '/v1/runs', start);
    }
    const runId = started.body.run.id as string;
    expect(await reaches(runId, 'compensated')).toBe('compensated');
    const redriven = await client.request<Json>('operator', 'POST', `/v1/runs/${runId}/actions/redrive`, {
      stepId: 'create-workspace',
      input: { owner: 'acc-fixed', simulate: {} },
      reason: 'quota raised',
    });
    expect(redriven.status).toBe(200);
    expect(redriven.body.run.status).toBe('running');
    expect(await reaches(runId, 'completed')).toBe('completed');
    const types = (await client.history(runId)).map((e) => e.type);
    expect(types.indexOf('RunCompensated')).toBeLessThan(types.indexOf('RunReset'));
    expect(types.at(-1)).toBe('RunCompleted');
  }, 180_000);

  it('the production log verifies: the API process hashes it, and an export checks against its signed checkpoint', async () => {
    type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    const { checkpoint, publicKey } = (await client.request<Json>('auditor', 'GET', '/v1/audit/checkpoint')).body;
    expect(checkpoint.treeSize).toBeGreaterThan(0);
    const response = await fetch(`${client.url}/v1/audit/export`, {
      headers: { authorization: `Bearer ${(stack as Stack).keys.admin}` },
    });
    expect(response.status).toBe(200);
    const text = await response.text();
    async function* lines(): AsyncGenerator<string> {
      yield* text.split('\n');
    }
    const report = await verifyExport(lines(), { publicKey: createPublicKey(publicKey as string) });
    print(
      `stack e2e: audit verified ${report.events} events in ${report.streams} streams (tree ${report.checkpoint?.treeSize})`,
    );
    expect(report.problem).toBeNull();
    expect(report.events).toBeGreaterThanOrEqual(checkpoint.treeSize as number);
  }, 120_000);
});
