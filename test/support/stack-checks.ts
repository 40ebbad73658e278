// What the stack e2e test checks after the runs settle: each run against its prediction (its view and its history),
// the workers' ledger, the API's metrics and the trace file; and, before it starts, that no other process is in the
// stack's consumer groups on the shared broker.
import { Admin } from '@platformatic/kafka';
import { traceIdForRun } from '@orchestron/telemetry';
import { readTraceFile } from '@orchestron/telemetry/testing';
import type { HistoryEvent, TrackedRun } from './stack-driver.ts';

/** The codes of an attempt a crash cut short: the worker died mid-step, and the orchestrator's timers noticed. */
// STEP.DEADLINE_EXCEEDED: the worker got the command after its deadline (held up by a broker outage, say).
const CUT_SHORT_CODES: ReadonlySet<string> = new Set([
  'STEP.HEARTBEAT_TIMED_OUT',
  'STEP.TIMED_OUT',
  'STEP.DEADLINE_EXCEEDED',
]);

export interface CheckOptions {
  /**
   * A fault (a worker killed, the broker away) hit this run's steps in flight: a step predicted to fail after all its
   * attempts may show its last attempt cut short (heartbeat or attempt timeout, or a command that reached the worker
   * past its deadline) instead of its own error, which an earlier attempt must show. The run must still end exactly
   * as predicted.
   */
  readonly workerKilled?: boolean;
}

/** What is wrong with one settled run, checked against its plan; empty when it reached exactly the predicted outcome. */
export function checkRun(run: TrackedRun, history: readonly HistoryEvent[], options: CheckOptions = {}): string[] {
  const { expected } = run.plan;
  const view = run.view;
  if (view === null) return ['never read'];
  const problems: string[] = [];
  if (view.status !== expected.status) {
    problems.push(
      `status ${view.status}, expected ${expected.status}${view.failure ? ` (failure ${view.failure.stepId}: ${view.failure.error.code})` : ''}`,
    );
  }
  if (expected.failure) {
    const failure = view.failure;
    const cutShort =
      options.workerKilled === true &&
      expected.failure.policyId === undefined &&
      failure !== null &&
      CUT_SHORT_CODES.has(failure.error.code) &&
      history.some(
        (e) =>
          e.type === 'StepAttemptFailed' &&
          e.data.stepId === expected.failure?.stepId &&
          e.data.error !== null &&
          typeof e.data.error === 'object' &&
          (e.data.error as { code?: unknown }).code === expected.failure?.code,
      );
    if (failure?.stepId !== expected.failure.stepId || (failure.error.code !== expected.failure.code && !cutShort)) {
      problems.push(
        `failure ${failure ? `${failure.stepId}: ${failure.error.code}` : 'none'}, expected ${expected.failure.stepId}: ${expected.failure.code}`,
      );
    }
    const { policyId, stepId } = expected.failure;
    if (policyId !== undefined) {
      if (failure?.error.details?.policyId !== policyId)
        problems.push(`failure names policy ${String(failure?.error.details?.policyId)}, expected ${policyId}`);
      const ruled = history.some(
        (e) =>
          e.type === 'GovernanceDecided' &&
          e.data.outcome === 'deny' &&
          e.data.policyId === policyId &&
          e.data.stepId === stepId,
      );
      if (!ruled) problems.push(`history has no GovernanceDecided deny by ${policyId} on ${stepId}`);
    }
  } else if (view.failure !== null) {
    problems.push(`unexpected failure ${view.failure.stepId}: ${view.failure.error.code}`);
  }
  for (const stepId of expected.retried) {
    const step = view.steps.find((s) => s.id === stepId);
    if (!step || step.attempt < 2)
      problems.push(
        `${stepId} should have been retried after its first attempt failed, but shows attempt ${step?.attempt}`,
      );
  }
  for (const stepId of expected.compensated) {
    const step = view.steps.find((s) => s.id === stepId);
    if (step?.compensation?.status !== 'completed')
      problems.push(`${stepId}'s compensation is ${step?.compensation?.status ?? 'absent'}, expected completed`);
  }
  const approvedInHistory = history
    .filter((e) => e.type === 'StepApproved')
    .map((e) => String(e.data.stepId))
    .sort();
  if (JSON.stringify(approvedInHistory) !== JSON.stringify([...expected.approvals].sort())) {
    problems.push(
      `approvals in history [${approvedInHistory.join(', ')}], expected [${[...expected.approvals].sort().join(', ')}]`,
    );
  }
  if (run.unexpectedGates.size > 0) problems.push(`unexpected approval gates: ${[...run.unexpectedGates].join(', ')}`);
  return problems;
}

/** A stuck run's last known state, for the failure message. */
export function describeStuck(run: TrackedRun): string {
  const view = run.view;
  if (view === null) return `${run.plan.key} (run ${run.runId}): never read`;
  const steps = view.steps
    .filter((s) => !['completed', 'skipped', 'cancelled'].includes(s.status))
    .map((s) => `${s.id}=${s.status}#${s.attempt}`);
  return `${run.plan.key} (run ${run.runId}): ${view.status} [${steps.join(' ')}]${run.approveErrors.length ? ` approve errors: ${run.approveErrors.slice(-2).join('; ')}` : ''}`;
}

/** Phase runs written by the killed orchestrator before the kill and by another instance after it. */
export function takenOver(
  histories: ReadonlyMap<string, readonly HistoryEvent[]>,
  runIds: readonly string[],
  killed: string,
  killedAt: number,
): number {
  return runIds.filter((runId) => {
    const events = (histories.get(runId) ?? []) as readonly (HistoryEvent & { recordedAt?: string })[];
    const before = events.some((e) => e.metadata.instance === killed && Date.parse(e.recordedAt ?? '') < killedAt);
    const after = events.some(
      (e) =>
        e.metadata.instance !== undefined &&
        e.metadata.instance !== killed &&
        Date.parse(e.recordedAt ?? '') > killedAt,
    );
    return before && after;
  }).length;
}

export interface LedgerStats {
  readonly executions: number;
  /** Idempotency keys whose handler started more than once. */
  readonly duplicates: readonly { key: string; n: number; instances: string }[];
  /** Attempts an instance claimed in the `inFlightMs` before `killedAt` and never finished: what its kill cut short. */
  readonly cutShort: ReadonlyMap<string, number>;
}

/** What the checks query PostgreSQL through: one connection, taken before the stack starts, as the stack's own pools can use up the server's connections. */
export interface Sql {
  query<R extends Record<string, unknown>>(text: string, values?: unknown[]): Promise<{ rows: R[] }>;
}

/** The workers' ledger, restricted to the given runs (the schema is the test's own, but a shared broker can bring strangers). */
export async function ledgerStats(
  sql: Sql,
  schema: string,
  runIds: readonly string[],
  killedAt: number,
  inFlightMs: number,
): Promise<LedgerStats> {
  const executions =
    (
      await sql.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM "${schema}".worker_executions WHERE run_id = ANY($1)`,
        [runIds],
      )
    ).rows[0]?.n ?? 0;
  const duplicates = (
    await sql.query<{ key: string; n: number; instances: string }>(
      `SELECT key, count(*)::int AS n, string_agg(instance, ',') AS instances FROM "${schema}".worker_executions WHERE run_id = ANY($1) GROUP BY key HAVING count(*) > 1 ORDER BY key`,
      [runIds],
    )
  ).rows;
  // A claim whose completion could not be written also stays running; the time window keeps those out.
  const unfinished = (
    await sql.query<{ instance: string; n: number }>(
      `SELECT instance, count(*)::int AS n FROM "${schema}".worker_claims
     WHERE run_id = ANY($1) AND state = 'running' AND claimed_at BETWEEN to_timestamp($2 / 1000.0) - make_interval(secs => $3) AND to_timestamp($2 / 1000.0)
     GROUP BY instance`,
      [runIds, killedAt, inFlightMs / 1000],
    )
  ).rows;
  return { executions, duplicates, cutShort: new Map(unfinished.map((r) => [r.instance, r.n])) };
}

/**
 * The instance of `worker` in the middle of the most long attempts (claimed `minAgeMs` to `maxAgeMs` ago, so a
 * `slow` step still has seconds to go): killing it now surely cuts an attempt short.
 */
export async function busyInstance(
  sql: Sql,
  schema: string,
  worker: string,
  minAgeMs: number,
  maxAgeMs: number,
): Promise<string | null> {
  const { rows } = await sql.query<{ instance: string }>(
    `SELECT instance FROM "${schema}".worker_claims WHERE worker = $1 AND state = 'running' AND claimed_at BETWEEN now() - make_interval(secs => $3) AND now() - make_interval(secs => $2)
     GROUP BY instance ORDER BY count(*) DESC LIMIT 1`,
    [worker, minAgeMs / 1000, maxAgeMs / 1000],
  );
  return rows[0]?.instance ?? null;
}

/** Sum of a Prometheus sample's values over every series whose labels include `labels`. */
export function metricSum(text: string, name: string, labels: Readonly<Record<string, string>>): number | null {
  let found = false;
  let sum = 0;
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!match || match[1] !== name) continue;
    const labelText = match[2] ?? '';
    if (!Object.entries(labels).every(([k, v]) => labelText.includes(`${k}="${v}"`))) continue;
    found = true;
    sum += Number(match[3]);
  }
  return found ? sum : null;
}

/** The services that exported spans of the run's trace, waiting up to `timeoutMs` for the batch exporters to flush. */
export async function traceServices(
  tracesFile: string,
  runId: string,
  required: readonly string[],
  timeoutMs: number,
): Promise<Map<string, number>> {
  const traceId = traceIdForRun(runId);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const spans = (await readTraceFile(tracesFile)).filter((s) => s.traceId === traceId);
    const services = new Map<string, number>();
    for (const span of spans) services.set(span.service, (services.get(span.service) ?? 0) + 1);
    if (required.every((s) => services.has(s)) || Date.now() > deadline) return services;
    await new Promise((r) => setTimeout(r, 500));
  }
}

/**
 * Topics are fixed names and the stack's consumer groups are the services' defaults, so another process in one of
 * those groups on the same broker (the crash test's Kafka tier, another stack) would take partitions, and runs, from
 * this stack. Waits until the groups have no members, and fails naming them when they keep some.
 */
export async function waitForIdleGroups(
  brokers: readonly string[],
  groups: readonly string[],
  timeoutMs: number,
  print: (line: string) => void,
): Promise<void> {
  const admin = new Admin({ clientId: 'orchestron-stack-e2e-probe', bootstrapBrokers: [...brokers] });
  try {
    const deadline = Date.now() + timeoutMs;
    let lastPrint = 0;
    for (;;) {
      const known = new Set((await admin.listGroups()).keys());
      const present = groups.filter((g) => known.has(g));
      const described = present.length === 0 ? new Map() : await admin.describeGroups({ groups: present });
      const busy = [...described]
        .filter(([, group]) => group.members.size > 0)
        .map(([name, group]) => `${name} (${group.members.size} members, ${group.state})`);
      if (busy.length === 0) return;
      if (Date.now() > deadline) {
        throw new Error(
          `consumer groups of the stack still have members after ${timeoutMs / 1000} s: ${busy.join(', ')}. Another orchestrator, governance service or worker (the crash test's Kafka tier, npm run stack:start) is using the broker; stop it and run again`,
        );
      }
      if (Date.now() - lastPrint > 15_000) {
        lastPrint = Date.now();
        print(`stack e2e: waiting for the broker's orchestron groups to empty: ${busy.join(', ')}`);
      }
      await new Promise((r) => setTimeout(r, 2_000));
    }
  } finally {
    await admin.close();
  }
}
