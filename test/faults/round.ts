// One round of the fault suite: runs of every kind kept in flight through the API while one fault is injected at
// random points, then every run checked against its prediction (the no-fault oracle), the workers' ledger checked for
// executions that happened twice, and the recovery after each injection measured from the runs' endings.
import type pg from 'pg';
import { planRuns } from '../support/stack-scenarios.ts';
import { Approver } from './approver.ts';
import { inject } from './faults.ts';
import type { FaultName, FaultTarget, Injection } from './faults.ts';
import { Api, Producer } from './load.ts';
import type { Started } from './load.ts';
import { recoveryOf } from './recovery.ts';
import type { Recovery } from './recovery.ts';
import { verifyRuns } from './verify.ts';
import type { Verdict } from './verify.ts';
import { RunWatch } from './watch.ts';

export interface RoundOptions {
  readonly fault: FaultName | 'none';
  /** Runs started in the round. */
  readonly runs: number;
  /** Runs kept started and not yet ended. */
  readonly inFlight: number;
  /** Injections of the fault, each at a random point while runs are in flight. */
  readonly repeats: number;
  /** Unique per round: idempotency keys and e-mail addresses start with it. */
  readonly prefix: string;
  readonly world: FaultTarget;
  readonly pgUrl: string;
  readonly sql: pg.Client;
  readonly partitions: number;
  /** How long each approval gate waits before it is approved. */
  readonly approveAfterMs: number;
  /** How long without any run ending before the rest count as stuck. */
  readonly quietMs: number;
  readonly log: (line: string) => void;
}

export interface RoundResult extends Verdict {
  readonly fault: FaultName | 'none';
  /** Runs the round starts at least; it starts more while a fault is still to come or its recovery is measured. */
  readonly planned: number;
  readonly started: number;
  readonly peakInFlight: number;
  readonly injections: readonly (Injection & { readonly inFlight: number; readonly recovery: Recovery })[];
  readonly statuses: ReadonlyMap<number, number>;
  /** 5xx answers other than a retryable 503 (and 503s without retryable: true). */
  readonly serverErrors: number;
  readonly crashes: readonly string[];
  readonly unanswered: number;
  readonly startRetries: number;
  readonly approvals: number;
  readonly startedAt: number;
  readonly durationMs: number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** How long the load goes on after a fault is over, for its recovery to be measured. */
const RECOVERY_WINDOW_MS = 10_000;

export async function runRound(options: RoundOptions): Promise<RoundResult> {
  const { world, log } = options;
  const began = Date.now();
  // Planned four times over: past `runs`, the producer goes on while an injection is still to come or its recovery
  // is being measured, so no fault meets an idle stack (a round of 250 runs is over in about 6 s).
  const onboarding = Math.round(options.runs * 0.9 * 4);
  const plans = planRuns({ prefix: options.prefix, onboarding, payments: options.runs * 4 - onboarding });
  let injecting = options.fault !== 'none';
  let measureUntil = 0;
  const api = new Api(() => world.stack.url, world.stack.keys);
  const byRunId = new Map<string, Started>();
  const approver = new Approver(api, (runId) => byRunId.get(runId), options.approveAfterMs);
  const watch = new RunWatch({
    pgUrl: options.pgUrl,
    schema: world.stack.pgSchema,
    partitions: options.partitions,
    onGate: (gate) => approver.offer(gate),
  });
  const producer = new Producer(api, plans, {
    inFlight: options.inFlight,
    concurrency: 24,
    giveUpMs: 120_000,
    ended: (runId) => watch.ended.has(runId),
    minimum: options.runs,
    more: () => injecting || Date.now() < measureUntil,
    onStarted: (started) => byRunId.set(started.runId, started),
  });
  await watch.start();
  approver.start();
  let peakInFlight = 0;
  const sampler = setInterval(() => {
    peakInFlight = Math.max(peakInFlight, producer.inFlight);
  }, 250);
  const producing = producer.run();
  const injections: { injection: Injection; inFlight: number }[] = [];
  try {
    if (options.fault !== 'none') {
      for (let i = 0; i < options.repeats; i++) {
        // A random point in the i-th share of the starts, past its first quarter and before its last, so every
        // injection meets runs in flight (a point picked by time alone once fell after the last run had ended).
        const at = Math.floor((options.runs * (i + 0.25 + 0.5 * world.random())) / options.repeats);
        const wanted = Date.now() + 120_000;
        // And never before the last fault's recovery was measured: two outages back to back are one long one (two
        // 17 s broker outages in a row once spent every attempt of a step whose timeout is 10 s).
        while ((producer.started.length < at || Date.now() < measureUntil) && !producer.done && Date.now() < wanted)
          await sleep(50);
        const inFlight = producer.inFlight;
        const injection = await inject(options.fault, world);
        injections.push({ injection, inFlight });
        measureUntil = injection.clearedAt + RECOVERY_WINDOW_MS;
        log(`  injected ${injection.fault} #${i + 1} into ${injection.target}; measuring the recovery`);
      }
    }
    injecting = false;
    await producing;
    await untilSettled(producer.started, watch, options.quietMs, log);
  } finally {
    clearInterval(sampler);
    producer.stop();
    await producing.catch(() => undefined);
    await approver.stop();
    await watch.stop();
  }
  const verdict = await verifyRuns({
    api,
    sql: options.sql,
    schema: world.stack.pgSchema,
    started: producer.started,
    givenUp: producer.givenUp,
    refused: producer.refused,
    ended: watch.ended,
    unexpectedGates: approver.unexpected,
    approveErrors: approver.errors,
  });
  const end = Date.now();
  return {
    ...verdict,
    fault: options.fault,
    planned: options.runs,
    started: producer.started.length,
    peakInFlight,
    injections: injections.map(({ injection, inFlight }) => ({
      ...injection,
      inFlight,
      recovery: recoveryOf(watch.endings, injection, end),
    })),
    statuses: api.tally.statuses,
    serverErrors: api.tally.serverErrors,
    crashes: api.tally.crashes,
    unanswered: api.tally.unanswered,
    startRetries: producer.retries,
    approvals: approver.approvals,
    startedAt: began,
    durationMs: end - began,
  };
}

/** Waits until every started run has ended, or none has ended for `quietMs`; prints progress every 5 s. */
async function untilSettled(
  started: readonly Started[],
  watch: RunWatch,
  quietMs: number,
  log: (line: string) => void,
): Promise<void> {
  let lastCount = -1;
  let lastMove = Date.now();
  let lastPrint = Date.now();
  for (;;) {
    const open = started.filter((s) => !watch.ended.has(s.runId)).length;
    if (open === 0) return;
    if (open !== lastCount) {
      lastCount = open;
      lastMove = Date.now();
    }
    if (Date.now() - lastMove > quietMs) {
      log(`  no run ended for ${quietMs / 1000} s; ${open} still open`);
      return;
    }
    if (Date.now() - lastPrint > 5_000) {
      lastPrint = Date.now();
      log(`  ${started.length - open}/${started.length} ended`);
    }
    await sleep(200);
  }
}
