import { afterAll, describe, expect, it } from '@jest/globals';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { num } from '../../bench/harness/markdown-format.ts';
import { lineProgress } from '../../bench/harness/progress.ts';
import type { Plan } from '../../bench/harness/plan.ts';
import { writeReport } from '../../bench/harness/report.ts';
import type { BenchResults } from '../../bench/harness/results-file.ts';
import { median } from '../../bench/harness/stats.ts';
import { runBench } from '../../bench/harness/runner.ts';
import type { Case } from '../../bench/harness/types.ts';

/**
 * The harness end to end on a tiny plan, with real systems: Orchestron embedded (a child process on SQLite),
 * Restate (its server binary and a Node service), and the SQLite floor; two interleaved repetitions, then the
 * files it writes.
 */
const CASES: readonly Case[] = [
  {
    id: 'W1-chain3-x1',
    workload: 'W1',
    label: 'W1 chain of 3, 1 in flight',
    shape: { kind: 'chain', width: 3, workMs: 0 },
    inFlight: 1,
    count: 8,
    maxSeconds: 2,
  },
  {
    id: 'W2-fanout10-x4',
    workload: 'W2',
    label: 'W2 fan-out 10 + join, 4 in flight',
    shape: { kind: 'fanout', width: 10, workMs: 0 },
    inFlight: 4,
    count: 8,
    maxSeconds: 2,
  },
  {
    id: 'W4-kill9-x20',
    workload: 'W4',
    label: 'W4 kill -9 with 20 runs',
    shape: { kind: 'chain', width: 3, workMs: 0 },
    inFlight: 20,
    count: 20,
    maxSeconds: 30,
  },
];

const PLAN: Plan = {
  quick: true,
  reps: 2,
  systems: ['orchestron-embedded', 'restate', 'floor-sqlite'],
  cases: CASES,
  casesBySystem: {
    'orchestron-embedded': CASES.map((c) => c.id),
    restate: CASES.map((c) => c.id),
    'floor-sqlite': ['W1-chain3-x1'],
  },
  warmUp: { shape: { kind: 'chain', width: 1, workMs: 0 }, inFlight: 2, count: 4 },
};

const scratch = mkdtempSync(join(tmpdir(), 'benchh-int-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('npm run bench on a tiny plan', () => {
  let results: BenchResults;
  let markdown: string;
  const lines: string[] = [];

  it('measures every system on its cases in interleaved repetitions and writes the JSON, markdown and charts', async () => {
    const { measurements, settings } = await runBench(
      PLAN,
      join(scratch, 'work'),
      lineProgress((line) => lines.push(line)),
    );
    const out = join(scratch, 'out');
    const report = writeReport(out, {
      plan: PLAN,
      startedAt: '2026-12-05T10:00:00.000Z',
      finishedAt: new Date().toISOString(),
      environment: { machine: { cpus: 2, cpuModel: 'test', memoryGiB: 1, kernel: 'test' }, versions: {} },
      settings,
      measurements,
    });
    results = JSON.parse(readFileSync(report.jsonFile, 'utf8')) as BenchResults;
    markdown = readFileSync(join(out, 'latest.md'), 'utf8');

    expect(report.jsonFile).toBe(join(out, '2026-12-05T10-00-00Z.json'));
    // The reason rides along, so a failure here says why (the work directory is gone by now).
    const statusOf = (m: BenchResults['measurements'][number]) => `${m.status}${m.reason ? `: ${m.reason}` : ''}`;
    expect(results.measurements.map((m) => `${m.rep} ${m.system} ${m.caseId} ${statusOf(m)}`)).toEqual([
      ...[1, 2].flatMap((rep) => [
        ...CASES.map((c) => `${rep} orchestron-embedded ${c.id} ok`),
        ...CASES.map((c) => `${rep} restate ${c.id} ok`),
        `${rep} floor-sqlite W1-chain3-x1 ok`,
      ]),
    ]);
    expect(lines.filter((l) => l.startsWith('['))).toHaveLength(14);
    expect(existsSync(join(scratch, 'work'))).toBe(true);
    expect(readdirSync(join(scratch, 'work'))).toEqual([]);
    expect(readdirSync(join(out, 'charts')).sort()).toEqual(
      ['latency-W1-chain3-x1.svg', 'latency-W2-fanout10-x4.svg'].sort(),
    );
  }, 60_000);

  it('records runs, steps, latency, CPU by process, memory and events per step from what it measured', () => {
    for (const m of results.measurements.filter((x) => x.caseId !== 'W4-kill9-x20')) {
      expect(m.runs).toBeGreaterThan(0);
      expect(m.metrics.runsPerSec).toBeCloseTo(m.runs / m.seconds, 6);
      expect(m.steps).toBe(m.runs * (m.caseId.startsWith('W2') ? 11 : 3));
      expect(m.metrics.p50Ms).toBeGreaterThan(0);
      expect(m.metrics.p99Ms as number).toBeGreaterThanOrEqual(m.metrics.p50Ms as number);
    }
    const embedded = results.measurements.find(
      (m) => m.system === 'orchestron-embedded' && m.caseId === 'W1-chain3-x1',
    );
    const host = embedded?.processes.find((p) => p.role === 'engine+workers');
    expect(host?.cpuSeconds).toBeGreaterThan(0);
    expect(host?.peakRssMb).toBeGreaterThan(20);
    // RunStarted, per step Scheduled/Started/Completed…: more than one event per step, and the same every time.
    expect(embedded?.metrics.eventsPerStep).toBeGreaterThan(1);
    const restate = results.measurements.find((m) => m.system === 'restate' && m.caseId === 'W1-chain3-x1');
    expect(restate?.processes.map((p) => p.role).sort()).toEqual(['client', 'restate-server', 'service']);
  });

  it('kills the orchestrator in W4 and counts every run done and every step executed', () => {
    for (const m of results.measurements.filter((x) => x.caseId === 'W4-kill9-x20')) {
      expect(m.crash?.completed).toBe(20);
      expect(m.crash?.distinctSteps).toBe(60);
      expect(m.crash?.duplicates).toBe((m.crash?.executions ?? 0) - 60);
      expect(m.metrics.duplicates).toBe(m.crash?.duplicates);
      expect(m.metrics.recoverySeconds).toBeGreaterThan(0);
    }
  });

  it('takes each ratio within a repetition and reports their median, for Orchestron against the peer only', () => {
    expect(results.ratios.map((r) => `${r.orchestron}/${r.peer}/${r.caseId}`)).toEqual(
      CASES.map((c) => `orchestron-embedded/restate/${c.id}`),
    );
    const of = (system: string, rep: number) =>
      results.measurements.find((m) => m.system === system && m.rep === rep && m.caseId === 'W1-chain3-x1');
    const perRep = [1, 2].map(
      (rep) =>
        (of('orchestron-embedded', rep)?.metrics.p50Ms as number) / (of('restate', rep)?.metrics.p50Ms as number),
    );
    const row = results.ratios.find((r) => r.caseId === 'W1-chain3-x1');
    expect(row?.ratios.p50Ms?.median).toBeCloseTo(median(perRep), 9);
    expect(row?.ratios.p50Ms?.min).toBeCloseTo(Math.min(...perRep), 9);
    expect(row?.ratios.p50Ms?.max).toBeCloseTo(Math.max(...perRep), 9);
    const summary = results.summary.find((s) => s.system === 'restate' && s.caseId === 'W1-chain3-x1');
    expect(summary?.metrics.runsPerSec?.median).toBeCloseTo(
      median([1, 2].map((rep) => of('restate', rep)?.metrics.runsPerSec as number)),
      9,
    );
  });

  it('writes the markdown from the same figures', () => {
    const row = results.ratios.find((r) => r.caseId === 'W1-chain3-x1');
    expect(markdown).toContain('### orchestron-embedded ÷ restate');
    expect(markdown).toContain('## CPU ms per run, by process');
    expect(markdown).toContain('## W4 in detail (each repetition)');
    const ratioLine = markdown.split('\n').find((l) => l.startsWith('| W1-chain3-x1 |') && l.includes('×'));
    expect(ratioLine?.split(' | ')[1]).toContain(`${num(row?.ratios.runsPerSec?.median)}×`);
  });
});
