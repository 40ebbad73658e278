// Repetitions, interleaved: in each one every system in turn (A B C …), started fresh, warmed up, measured on its
// cases and stopped, so each ratio compares figures taken in the same sitting.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { createDriver } from './drivers/registry.ts';
import { measureCase, messageOf, nothing } from './measure.ts';
import { settleDisk } from './settle.ts';
import type { Plan } from './plan.ts';
import type { Progress } from './progress.ts';
import type { Measurement } from './results.ts';
import type { Case, Driver } from './types.ts';

export interface RunOutput {
  readonly measurements: Measurement[];
  readonly settings: Record<string, Record<string, unknown>>;
}

/** Unique per invocation, lower case: it goes into schema and topic names. */
export function runTag(now: number = Date.now()): string {
  return `${now.toString(36)}${process.pid.toString(36)}`.toLowerCase();
}

export async function runBench(plan: Plan, workDir: string, progress: Progress): Promise<RunOutput> {
  const tag = runTag();
  const base = join(workDir, tag);
  const measurements: Measurement[] = [];
  const settings: Record<string, Record<string, unknown>> = {};
  const caseById = new Map(plan.cases.map((c) => [c.id, c]));
  let current: Driver | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    progress.log(`bench: ${signal}: stopping ${current?.system ?? 'nothing'}`);
    void (current?.stop() ?? Promise.resolve()).finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  progress.start(plan.reps * plan.systems.reduce((n, s) => n + (plan.casesBySystem[s]?.length ?? 0), 0));
  try {
    for (let rep = 1; rep <= plan.reps; rep++)
      for (const system of plan.systems) {
        const cases = (plan.casesBySystem[system] ?? []).map((id) => caseById.get(id) as Case);
        const ctx = { workDir: join(base, `rep${rep}`, system), tag: `${tag}_r${rep}`, log: progress.log };
        current = createDriver(system, ctx);
        measurements.push(...(await runSystem(current, cases, rep, plan, progress)));
        settings[system] = current.settings();
        current = undefined;
      }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    progress.stop();
    rmSync(base, { recursive: true, force: true });
  }
  return { measurements, settings };
}

async function runSystem(
  driver: Driver,
  cases: readonly Case[],
  rep: number,
  plan: Plan,
  progress: Progress,
): Promise<Measurement[]> {
  const label = `rep ${rep}/${plan.reps} ${driver.system}`;
  const settledMs = await settleDisk(progress.log);
  const started = Date.now();
  progress.log(`${label}: starting (the disk settled in ${settledMs} ms)`);
  const out: Measurement[] = [];
  try {
    await startOrRetry(driver, label, progress);
    progress.log(`${label}: up in ${((Date.now() - started) / 1000).toFixed(1)} s; warming up`);
    const { shape, inFlight, count } = plan.warmUp;
    await driver.runWorkload(shape, inFlight, count, 30);
    for (const c of cases) {
      const m = await measureCase(driver, c, rep);
      out.push(m);
      progress.tick(`${label} ${c.id}: ${headline(m)}`);
    }
  } catch (error) {
    progress.log(`${label}: failed: ${messageOf(error)}`);
    for (const c of cases.slice(out.length)) {
      out.push({
        rep,
        system: driver.system,
        caseId: c.id,
        ...nothing(),
        status: 'error',
        reason: messageOf(error),
        processes: [],
      });
      progress.tick(`${label} ${c.id}: not measured`);
    }
  } finally {
    await driver.stop().catch((error: unknown) => progress.log(`${label}: stop failed: ${messageOf(error)}`));
  }
  return out;
}

/**
 * A start that fails is retried once, after a stop, and the failure is logged: on a loaded machine a server can
 * lose a port it was handed to another process between the probe and its bind. A second failure is the answer.
 */
export async function startOrRetry(driver: Driver, label: string, progress: Progress): Promise<void> {
  try {
    await driver.start();
  } catch (error) {
    progress.log(`${label}: start failed, retrying once: ${messageOf(error)}`);
    await driver.stop().catch(() => undefined);
    await driver.start();
  }
}

/** One line per measurement, for the progress output. */
export function headline(m: Measurement): string {
  if (m.status !== 'ok') return `${m.status}: ${m.reason ?? ''}`;
  const f = (v: number | null, digits = 1): string => (v === null ? '–' : v.toFixed(digits));
  if (m.crash)
    return `${m.crash.completed}/${m.crash.runs} done ${f(m.crash.killToDoneSeconds)} s after the kill, ${m.crash.duplicates} duplicate executions`;
  return `${f(m.metrics.runsPerSec)} runs/s, p50 ${f(m.metrics.p50Ms)} ms, p99 ${f(m.metrics.p99Ms)} ms, ${f(m.metrics.cpuMsPerRun)} CPU-ms/run${m.failed > 0 ? `, ${m.failed} failed` : ''}`;
}
