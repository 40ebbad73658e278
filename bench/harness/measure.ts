// One case on one system: the workload, with its processes sampled and its writes counted around it.
import { ProcessSampler } from './proc-sampler.ts';
import type { ProcessUsage } from './proc-sampler.ts';
import { emptyMetrics } from './results.ts';
import type { Measurement, Metrics, ProcessFigure } from './results.ts';
import { latencySummary } from './stats.ts';
import type { Case, Driver, ProcessRef } from './types.ts';
import { runCase } from './workloads.ts';

/** The bench process itself: the load generator for systems driven over HTTP, idle for in-process hosts. */
export const CLIENT_ROLE = 'client';
const client: ProcessRef = { role: CLIENT_ROLE, name: 'bench', pids: () => [process.pid] };

export async function measureCase(driver: Driver, c: Case, rep: number): Promise<Measurement> {
  const base = { rep, system: driver.system, caseId: c.id };
  // A floor runs in the bench process itself, and lists it as its own.
  const sampler = new ProcessSampler(() => (driver.kind === 'floor' ? driver.pids() : [...driver.pids(), client]));
  try {
    const before = await driver.writes();
    sampler.start();
    const outcome = await runCase(driver, c);
    const usage = sampler.stop();
    if (outcome.status === 'n/a')
      return { ...base, ...nothing(), status: 'n/a', reason: outcome.reason, processes: [] };
    const after = await driver.writes();
    const { sample, crash } = outcome;
    const processes = figures(usage, sample.runs);
    const metrics: Metrics = { ...emptyMetrics(), ...throughput(sample.runs, sample.steps, sample.seconds) };
    const latency = latencySummary(sample.latenciesMs);
    if (latency)
      Object.assign(metrics, { p50Ms: latency.p50, p90Ms: latency.p90, p99Ms: latency.p99, maxMs: latency.max });
    const own = processes.filter((p) => p.role !== CLIENT_ROLE);
    if (sample.runs > 0) metrics.cpuMsPerRun = (sum(own.map((p) => p.cpuSeconds)) * 1000) / sample.runs;
    metrics.peakRssMb = own.some((p) => p.peakRssMb !== null) ? sum(own.map((p) => p.peakRssMb ?? 0)) : null;
    metrics.eventsPerStep = perStep(before.events, after.events, sample.steps);
    metrics.rowsPerStep = perStep(before.rows, after.rows, sample.steps);
    if (crash) Object.assign(metrics, { recoverySeconds: crash.killToDoneSeconds, duplicates: crash.duplicates });
    const failedAll = sample.runs === 0;
    return {
      ...base,
      status: failedAll ? 'error' : 'ok',
      ...(failedAll ? { reason: sample.firstError ?? 'no run completed' } : {}),
      ...(!failedAll && sample.firstError ? { reason: `${sample.failed} failed: ${sample.firstError}` } : {}),
      runs: sample.runs,
      failed: sample.failed,
      steps: sample.steps,
      seconds: sample.seconds,
      metrics,
      processes,
      ...(crash ? { crash } : {}),
    };
  } catch (error) {
    try {
      sampler.stop();
    } catch {
      // it never started
    }
    return { ...base, ...nothing(), status: 'error', reason: messageOf(error), processes: [] };
  }
}

/** A measurement of a case that could not run: no figures. */
export function nothing(): Pick<Measurement, 'runs' | 'failed' | 'steps' | 'seconds' | 'metrics'> {
  return { runs: 0, failed: 0, steps: 0, seconds: 0, metrics: emptyMetrics() };
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? (error.message.split('\n')[0] ?? error.message) : String(error);
}

function throughput(runs: number, steps: number, seconds: number): Partial<Metrics> {
  return seconds > 0 ? { runsPerSec: runs / seconds, stepsPerSec: steps / seconds } : {};
}

function figures(usage: readonly ProcessUsage[], runs: number): ProcessFigure[] {
  return usage.map((u) => ({ ...u, cpuMsPerRun: runs > 0 ? (u.cpuSeconds * 1000) / runs : null }));
}

function perStep(before: number | null, after: number | null, steps: number): number | null {
  return before === null || after === null || steps === 0 ? null : (after - before) / steps;
}

const sum = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0);
