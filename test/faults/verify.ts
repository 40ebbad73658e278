// After a round: every run the API answered for is read back and checked against the outcome predicted from its
// input (the no-fault oracle of test/support/stack-scenarios.ts), and the workers' ledger is checked for any
// execution that happened twice.
import { checkRun, describeStuck, ledgerStats } from '../support/stack-checks.ts';
import type { Sql } from '../support/stack-checks.ts';
import { eachLimited } from '../support/stack-driver.ts';
import type { HistoryEvent, RunView, TrackedRun } from '../support/stack-driver.ts';
import type { PlannedRun } from '../support/stack-scenarios.ts';
import type { Api, Started } from './load.ts';

export interface Verdict {
  /** Starts answered with a run that the store does not have, and starts never answered with their run. */
  readonly lost: number;
  /** Runs that had not ended when the round gave up on them. */
  readonly stuck: number;
  /** Runs that ended otherwise than predicted. */
  readonly wrong: number;
  /** Idempotency keys a worker executed more than once. */
  readonly duplicates: number;
  readonly executions: number;
  /** The first few of each, for the report. */
  readonly details: readonly string[];
}

export interface VerifyInput {
  readonly api: Api;
  readonly sql: Sql;
  readonly schema: string;
  readonly started: readonly Started[];
  readonly givenUp: readonly PlannedRun[];
  readonly refused: readonly string[];
  readonly ended: ReadonlyMap<string, string>;
  readonly unexpectedGates: ReadonlyMap<string, ReadonlySet<string>>;
  readonly approveErrors: readonly string[];
}

const SHOWN = 5;

export async function verifyRuns(input: VerifyInput): Promise<Verdict> {
  const details: string[] = [
    ...input.refused.slice(0, SHOWN).map((r) => `start refused: ${r}`),
    ...input.givenUp.slice(0, SHOWN).map((p) => `lost: ${p.key} was never answered with its run in 120 s`),
    ...input.approveErrors.slice(0, SHOWN).map((e) => `approval refused: ${e}`),
  ];
  let lost = input.givenUp.length;
  let stuck = 0;
  let wrong = 0;
  await eachLimited(input.started, 8, async (started) => {
    const run = await read(input.api, started.runId);
    if (run === 'missing') {
      lost++;
      if (details.length < 40) details.push(`lost: ${started.plan.key} (run ${started.runId}) is not in the store`);
      return;
    }
    const tracked: TrackedRun = {
      plan: started.plan,
      phase: 0,
      runId: started.runId,
      startRetries: 0,
      view: run?.view ?? null,
      settled: input.ended.has(started.runId),
      approved: new Set(),
      unexpectedGates: new Set(input.unexpectedGates.get(started.runId) ?? []),
      approveErrors: [],
    };
    if (!tracked.settled && tracked.unexpectedGates.size === 0) {
      stuck++;
      if (details.length < 40) details.push(`stuck: ${describeStuck(tracked)}`);
      return;
    }
    const problems = checkRun(tracked, run?.history ?? [], { workerKilled: true });
    if (problems.length > 0) {
      wrong++;
      if (details.length < 40)
        details.push(`wrong: ${started.plan.key} (run ${started.runId}): ${problems.join('; ')}`);
    }
  });
  const ledger = await ledgerStats(
    input.sql,
    input.schema,
    input.started.map((s) => s.runId),
    0,
    0,
  );
  for (const d of ledger.duplicates.slice(0, SHOWN)) details.push(`executed twice: ${d.key} ×${d.n} on ${d.instances}`);
  return { lost, stuck, wrong, duplicates: ledger.duplicates.length, executions: ledger.executions, details };
}

/** The run's view and history, `'missing'` on a 404, or undefined when the API would not say (after retries). */
async function read(
  api: Api,
  runId: string,
): Promise<{ view: RunView; history: HistoryEvent[] } | 'missing' | undefined> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const view = await api.call<{ run: RunView }>('auditor', 'GET', `/v1/runs/${runId}`);
    if (view?.status === 404) return 'missing';
    const history = await api.call<{ events: HistoryEvent[] }>('auditor', 'GET', `/v1/runs/${runId}/events`);
    if (view?.status === 200 && history?.status === 200) return { view: view.body.run, history: history.body.events };
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return undefined;
}
