// bench/results/charts/*.svg: throughput against runs in flight, and latency percentiles per case.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CaseSummary } from './results.ts';
import { colorOf, groupedBars, lineChart } from './svg.ts';
import type { Series } from './svg.ts';
import { ALL_SYSTEMS, systemKind } from './types.ts';
import type { Case, SystemName } from './types.ts';

const SHORT: Record<SystemName, string> = {
  'orchestron-embedded': 'orch-embedded',
  'orchestron-production-1': 'orch-prod-1',
  'orchestron-production-2': 'orch-prod-2',
  restate: 'restate',
  dbos: 'dbos',
  'dbos-queue': 'dbos-queue',
  'floor-postgres': 'floor-pg',
  'floor-sqlite': 'floor-sqlite',
  'floor-kafka': 'floor-kafka',
};

export interface ChartInput {
  readonly systems: readonly SystemName[];
  readonly cases: readonly Case[];
  readonly summary: readonly CaseSummary[];
}

export interface Chart {
  readonly file: string;
  readonly svg: string;
}

const shapeKey = (c: Case): string =>
  `${c.workload}-${c.shape.kind}${c.shape.width}${c.shape.workMs > 0 ? `-work${c.shape.workMs}ms` : ''}`;

/** One chart per workload shape measured at more than one number of runs in flight. */
export function throughputCharts(input: ChartInput): Chart[] {
  const closed = input.cases.filter((c) => c.workload !== 'W4');
  const shapes = [...new Set(closed.map(shapeKey))];
  return shapes.flatMap((key) => {
    const cases = closed.filter((c) => shapeKey(c) === key).sort((a, b) => a.inFlight - b.inFlight);
    if (cases.length < 2) return [];
    const series: Series[] = input.systems
      .map((system) => ({
        name: SHORT[system],
        // The same colour for a system in every chart.
        color: colorOf(ALL_SYSTEMS.indexOf(system)),
        dashed: systemKind(system) === 'floor',
        points: cases.map((c) => {
          const m = input.summary.find((s) => s.system === system && s.caseId === c.id)?.metrics.runsPerSec;
          return { y: m?.median ?? null, lo: m?.min ?? null, hi: m?.max ?? null };
        }),
      }))
      .filter((s) => s.points.some((p) => p.y !== null));
    const title = `${key}: runs/s against runs in flight (median, min–max)`;
    return [
      {
        file: `throughput-${key}.svg`,
        svg: lineChart(
          title,
          'runs in flight',
          'runs/s (log)',
          cases.map((c) => String(c.inFlight)),
          series,
        ),
      },
    ];
  });
}

/** p50, p90, p99 and max of each system, one chart per closed-loop case. */
export function latencyCharts(input: ChartInput): Chart[] {
  return input.cases
    .filter((c) => c.workload !== 'W4')
    .flatMap((c) => {
      const rows = input.systems
        .map((system) => ({ system, s: input.summary.find((x) => x.system === system && x.caseId === c.id) }))
        .filter(({ s }) => s?.metrics.p50Ms);
      if (rows.length === 0) return [];
      const percentile = (name: string, pick: (s: CaseSummary) => number | null): Series => ({
        name,
        points: rows.map(({ s }) => ({ y: pick(s as CaseSummary) })),
      });
      const series = [
        percentile('p50', (s) => s.metrics.p50Ms?.median ?? null),
        percentile('p90', (s) => s.metrics.p90Ms?.median ?? null),
        percentile('p99', (s) => s.metrics.p99Ms?.median ?? null),
        percentile('max', (s) => s.metrics.maxMs?.median ?? null),
      ];
      const title = `${c.id}: run latency, ms (median over repetitions)`;
      return [
        {
          file: `latency-${c.id}.svg`,
          svg: groupedBars(
            title,
            'ms (log)',
            rows.map(({ system }) => SHORT[system]),
            series,
          ),
        },
      ];
    });
}

/** Writes every chart into `dir` (made if missing, its old charts removed); returns their file names. */
export function writeCharts(dir: string, input: ChartInput): string[] {
  mkdirSync(dir, { recursive: true });
  for (const old of readdirSync(dir).filter((f) => f.endsWith('.svg'))) rmSync(join(dir, old));
  const charts = [...throughputCharts(input), ...latencyCharts(input)];
  for (const chart of charts) writeFileSync(join(dir, chart.file), `${chart.svg}\n`);
  return charts.map((c) => c.file);
}
