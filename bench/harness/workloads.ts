// The workloads, written once: a closed loop (W1–W3) and the kill -9 (W4), run through any driver.
import { performance } from 'node:perf_hooks';
import type { CrashOutcome } from './results.ts';
import { stepsPerRun } from './types.ts';
import type { Case, CrashControls, Driver, WorkloadSample } from './types.ts';

export type CaseOutcome =
  | { readonly status: 'ok'; readonly sample: WorkloadSample; readonly crash?: CrashOutcome }
  | { readonly status: 'n/a'; readonly reason: string };

export async function runCase(driver: Driver, c: Case): Promise<CaseOutcome> {
  if (c.workload !== 'W4')
    return { status: 'ok', sample: await driver.runWorkload(c.shape, c.inFlight, c.count, c.maxSeconds) };
  if ('unsupported' in driver.crash) return { status: 'n/a', reason: driver.crash.unsupported };
  return crashCase(driver.crash, c);
}

/**
 * W4: `c.count` runs accepted, then kill -9 of the orchestrator (the peer's server) and its replacement started at
 * once; the clock runs until every run is done. Step executions are counted by a side effect in the steps.
 */
async function crashCase(crash: CrashControls, c: Case): Promise<CaseOutcome> {
  const before = await crash.executions();
  const t0 = performance.now();
  const handles = await crash.submit(c.shape, c.count);
  // Killed as soon as the last run is accepted: the first ones are running by then, the last ones barely started.
  const submitted = performance.now();
  const killedAt = submitted;
  await crash.kill();
  await crash.restart();
  const healthy = performance.now();
  const completed = await crash.awaitAll(handles, c.maxSeconds * 1000);
  const done = performance.now();
  const after = await crash.executions();
  const executions = after.executions - before.executions;
  const distinctSteps = after.distinct - before.distinct;
  const outcome: CrashOutcome = {
    runs: handles.length,
    completed,
    submitSeconds: (submitted - t0) / 1000,
    killToHealthySeconds: (healthy - killedAt) / 1000,
    killToDoneSeconds: (done - killedAt) / 1000,
    totalSeconds: (done - t0) / 1000,
    executions,
    distinctSteps,
    duplicates: executions - distinctSteps,
  };
  const sample: WorkloadSample = {
    runs: completed,
    failed: handles.length - completed,
    steps: completed * stepsPerRun(c.shape),
    seconds: outcome.totalSeconds,
    latenciesMs: [],
  };
  return { status: 'ok', sample, crash: outcome };
}
