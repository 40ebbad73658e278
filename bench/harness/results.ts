// What one measured case gives, and the medians over repetitions.
import { spreadOf } from './stats.ts';
import type { Spread } from './stats.ts';
import type { SystemName } from './types.ts';

/** Every figure reported for a system on a case; the ratios are taken over these too. */
export const METRICS = [
  'runsPerSec',
  'stepsPerSec',
  'p50Ms',
  'p90Ms',
  'p99Ms',
  'maxMs',
  'cpuMsPerRun',
  'peakRssMb',
  'eventsPerStep',
  'rowsPerStep',
  'recoverySeconds',
  'duplicates',
] as const;
export type MetricName = (typeof METRICS)[number];
export type Metrics = Record<MetricName, number | null>;

/** Higher is better for these; lower for the rest. */
export const HIGHER_IS_BETTER: ReadonlySet<MetricName> = new Set(['runsPerSec', 'stepsPerSec']);

export interface ProcessFigure {
  readonly role: string;
  readonly name: string;
  readonly shared: boolean;
  readonly cpuSeconds: number;
  readonly cpuMsPerRun: number | null;
  readonly peakRssMb: number | null;
}

export interface CrashOutcome {
  readonly runs: number;
  readonly completed: number;
  readonly submitSeconds: number;
  /** From the kill until the replacement answers. */
  readonly killToHealthySeconds: number;
  /** From the kill until every run is done. */
  readonly killToDoneSeconds: number;
  readonly totalSeconds: number;
  readonly executions: number;
  readonly distinctSteps: number;
  readonly duplicates: number;
}

export interface Measurement {
  readonly rep: number;
  readonly system: SystemName;
  readonly caseId: string;
  readonly status: 'ok' | 'n/a' | 'error';
  readonly reason?: string;
  readonly runs: number;
  readonly failed: number;
  readonly steps: number;
  readonly seconds: number;
  readonly metrics: Metrics;
  /** CPU and memory of the system's processes (and of the bench client, role `client`). */
  readonly processes: readonly ProcessFigure[];
  readonly crash?: CrashOutcome;
}

export interface ProcessSummary {
  readonly role: string;
  readonly name: string;
  readonly shared: boolean;
  readonly cpuMsPerRun: Spread | null;
  readonly peakRssMb: Spread | null;
}

export interface CaseSummary {
  readonly system: SystemName;
  readonly caseId: string;
  /** `n/a` with its reason when no repetition measured it. */
  readonly status: 'ok' | 'n/a' | 'error';
  readonly reason?: string;
  readonly reps: number;
  readonly metrics: Record<MetricName, Spread | null>;
  readonly processes: readonly ProcessSummary[];
}

export function emptyMetrics(): Metrics {
  return Object.fromEntries(METRICS.map((m) => [m, null])) as Metrics;
}

/** Medians and spreads over the repetitions of one system on one case. */
export function summarize(system: SystemName, caseId: string, measurements: readonly Measurement[]): CaseSummary {
  const mine = measurements.filter((m) => m.system === system && m.caseId === caseId);
  const ok = mine.filter((m) => m.status === 'ok');
  const notOk = mine.find((m) => m.status !== 'ok');
  const metrics = Object.fromEntries(METRICS.map((name) => [name, spreadOf(ok.map((m) => m.metrics[name]))])) as Record<
    MetricName,
    Spread | null
  >;
  const names = [...new Map(ok.flatMap((m) => m.processes).map((p) => [`${p.role}\0${p.name}`, p])).values()];
  const processes = names.map((p) => {
    const same = ok.flatMap((m) => m.processes.filter((q) => q.role === p.role && q.name === p.name));
    return {
      role: p.role,
      name: p.name,
      shared: p.shared,
      cpuMsPerRun: spreadOf(same.map((q) => q.cpuMsPerRun)),
      peakRssMb: spreadOf(same.map((q) => q.peakRssMb)),
    };
  });
  return {
    system,
    caseId,
    status: ok.length > 0 ? 'ok' : (notOk?.status ?? 'n/a'),
    ...(ok.length === 0 && notOk?.reason ? { reason: notOk.reason } : {}),
    reps: ok.length,
    metrics,
    processes,
  };
}
