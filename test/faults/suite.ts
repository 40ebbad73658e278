// The fault suite: a production-shaped stack (two orchestrators, governance, two instances of each example worker and
// the API, as separate processes on PostgreSQL) on a Kafka broker of its own, and one round per fault, the first
// without any: its runs must end as predicted too, which checks the oracle itself.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startFreshBroker } from '../../tools/stack/fresh-broker.ts';
import type { FreshBroker } from '../../tools/stack/fresh-broker.ts';
import { startStack, stopStack } from '../../tools/stack/stack.ts';
import { startPayment, waitForEnd } from '../../tools/stack/stack-runs.ts';
import { withApplicationName } from './faults.ts';
import type { FaultName, FaultTarget } from './faults.ts';
import { runHostile } from './hostile-topics.ts';
import type { HostileResult } from './hostile-topics.ts';
import { injectionLines, passed } from './report.ts';
import { runRound } from './round.ts';
import type { RoundResult } from './round.ts';

export interface SuiteOptions {
  readonly faults: readonly FaultName[];
  readonly runs: number;
  readonly inFlight: number;
  readonly repeats: number;
  readonly seed: number;
  readonly sessionTimeoutMs: number;
  readonly partitions: number;
  readonly workMs: number;
  /** How long each approval gate waits before the suite approves it, as a person would. */
  readonly approveAfterMs: number;
  /** Hostile messages published to each of the stack's topics, and hostile requests to its API. 0: none. */
  readonly hostile: number;
  readonly pgUrl: string;
  readonly keepLogs: boolean;
  readonly log: (line: string) => void;
}

export interface SuiteResult {
  readonly rounds: readonly RoundResult[];
  readonly hostile: HostileResult | undefined;
  readonly ok: boolean;
  /** Where the logs were kept, when they were. */
  readonly logs: string | undefined;
}

/** mulberry32: a small seeded generator, so a failing run's random points can be replayed with --seed. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export async function runSuite(options: SuiteOptions): Promise<SuiteResult> {
  const { log } = options;
  const root = mkdtempSync(join(tmpdir(), 'orchestron-faults-'));
  const dir = join(root, 'stack');
  const schema = `faults_${process.pid}_${Date.now().toString(36)}`;
  const application = `orchestron-faults-${process.pid}`;
  const stackPgUrl = withApplicationName(options.pgUrl, application);
  const sql = new pg.Client({ connectionString: options.pgUrl, application_name: 'orchestron-fault-checks' });
  await sql.connect();
  let broker: FreshBroker | undefined;
  const rounds: RoundResult[] = [];
  let hostile: HostileResult | undefined;
  let ok = false;
  try {
    const began = Date.now();
    // group.min.session.timeout.ms of 1 s, so the suite may run the services with a session shorter than Kafka's 6 s.
    broker = await startFreshBroker({ home: join(root, 'broker'), groupMinSessionTimeoutMs: 1_000 });
    const stack = await startStack({
      dir,
      brokers: broker.brokers,
      pgUrl: stackPgUrl,
      pgSchema: schema,
      apiPort: 0,
      workMs: options.workMs,
      partitions: options.partitions,
      sessionTimeoutMs: options.sessionTimeoutMs,
      collector: false,
      log: () => undefined,
    });
    for (const warning of stack.warnings) log(`faults: warning: ${warning}`);
    log(
      `faults: broker and ${stack.processes.length} processes up in ${((Date.now() - began) / 1000).toFixed(1)} s ` +
        `(session ${options.sessionTimeoutMs / 1000} s, ${options.partitions} partitions, seed ${options.seed})`,
    );
    const world: FaultTarget = {
      stack,
      broker,
      pgUrl: options.pgUrl,
      pgApplication: application,
      sessionTimeoutMs: options.sessionTimeoutMs,
      random: seeded(options.seed),
    };
    for (const fault of ['none', ...options.faults] as const) {
      log(
        `faults: round "${fault}": ${options.runs} runs or more, ${options.inFlight} in flight, ${fault === 'none' ? 0 : options.repeats} injections`,
      );
      const result = await runRound({
        fault,
        runs: options.runs,
        inFlight: options.inFlight,
        repeats: options.repeats,
        prefix: `f${options.seed}-${fault}-${Date.now().toString(36)}`,
        world,
        pgUrl: options.pgUrl,
        sql,
        partitions: options.partitions,
        approveAfterMs: options.approveAfterMs,
        quietMs: Math.max(60_000, options.sessionTimeoutMs * 4, options.approveAfterMs + 30_000),
        log,
      });
      rounds.push(result);
      for (const line of injectionLines(result)) log(`  ${line}`);
      for (const line of result.details.slice(0, 10)) log(`  ${line}`);
      for (const line of result.crashes) log(`  5xx: ${line}`);
      log(
        `  ${passed(result) ? 'pass' : 'FAIL'}: ${result.started} runs in ${(result.durationMs / 1000).toFixed(1)} s, ` +
          `lost ${result.lost}, stuck ${result.stuck}, wrong ${result.wrong}, executed twice ${result.duplicates}, 5xx ${result.serverErrors}`,
      );
    }
    if (options.hostile > 0) {
      log(`faults: hostile input: ${options.hostile} messages on the topics, defective requests to the API`);
      const witness = await startPayment(world.stack, `f${options.seed}-witness-${Date.now().toString(36)}`);
      if ((await waitForEnd(world.stack, witness, 60_000)) !== 'completed')
        throw new Error(`the witness payment ${witness} did not complete in 60 s`);
      hostile = await runHostile({ world, count: options.hostile, seed: options.seed, witness, log });
      log(
        `  ${hostile.ok ? 'pass' : 'FAIL'}: ${hostile.deadLettered}/${hostile.published} dead-lettered (${hostile.withoutReason} without a reason), ` +
          `${hostile.requests - hostile.notRefused.length}/${hostile.requests} requests refused with a 4xx, dead services: ${hostile.deadServices.join(', ') || 'none'}`,
      );
      for (const line of hostile.notRefused) log(`  not refused: ${line}`);
    }
    ok = rounds.every(passed) && (hostile === undefined || hostile.ok);
  } finally {
    await stopStack(dir, () => undefined).catch(() => undefined);
    await broker?.stop().catch(() => undefined);
    if (ok && !options.keepLogs) {
      await sql.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
      rmSync(root, { recursive: true, force: true });
    }
    await sql.end().catch(() => undefined);
  }
  return { rounds, hostile, ok, logs: ok && !options.keepLogs ? undefined : `${dir}/logs (schema ${schema})` };
}
