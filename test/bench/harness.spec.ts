import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closedLoop } from '../../bench/harness/closed-loop.ts';
import { logTail } from '../../bench/harness/drivers/processes.ts';
import { num, ratio, spread } from '../../bench/harness/markdown-format.ts';
import { renderMarkdown } from '../../bench/harness/markdown.ts';
import { parseOptions } from '../../bench/harness/options.ts';
import { lineProgress } from '../../bench/harness/progress.ts';
import type { Progress } from '../../bench/harness/progress.ts';
import { allCases, buildPlan } from '../../bench/harness/plan.ts';
import { computeRatios, perRepRatios } from '../../bench/harness/ratios.ts';
import { buildResults } from '../../bench/harness/report.ts';
import { startOrRetry } from '../../bench/harness/runner.ts';
import { emptyMetrics, summarize } from '../../bench/harness/results.ts';
import type { Measurement, Metrics } from '../../bench/harness/results.ts';
import { latencySummary, median, spreadOf } from '../../bench/harness/stats.ts';
import { logScale } from '../../bench/harness/svg.ts';
import type { Driver, SystemName } from '../../bench/harness/types.ts';

function measurement(
  system: SystemName,
  rep: number,
  metrics: Partial<Metrics>,
  status: Measurement['status'] = 'ok',
): Measurement {
  return {
    rep,
    system,
    caseId: 'W1-chain3-x50',
    status,
    runs: 10,
    failed: 0,
    steps: 30,
    seconds: 1,
    metrics: { ...emptyMetrics(), ...metrics },
    processes: [{ role: 'engine', name: 'e', shared: false, cpuSeconds: 0.1, cpuMsPerRun: 10, peakRssMb: 100 + rep }],
  };
}

describe('the median and spread of repetitions', () => {
  it('takes the middle value, or the mean of the two middle ones', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(() => median([])).toThrow(RangeError);
  });

  it('ignores missing and non-finite values, and says how many it used', () => {
    expect(spreadOf([5, null, 1, undefined, Number.NaN, 3])).toEqual({ median: 3, min: 1, max: 5, n: 3 });
    expect(spreadOf([null])).toBeNull();
  });

  it('reads latency percentiles from an HDR histogram of the values', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    const summary = latencySummary(values);
    expect(summary?.p50).toBeCloseTo(50, 0);
    expect(summary?.p99).toBeCloseTo(99, 0);
    expect(summary?.max).toBeCloseTo(100, 0);
    expect(latencySummary([])).toBeNull();
  });
});

describe('ratios of Orchestron to a peer', () => {
  it('divides within each repetition, pairing by repetition, and skips failed sides and zero denominators', () => {
    const orchestron = [
      measurement('orchestron-embedded', 1, { runsPerSec: 100 }),
      measurement('orchestron-embedded', 2, { runsPerSec: 300 }),
      measurement('orchestron-embedded', 3, { runsPerSec: 50 }),
      measurement('orchestron-embedded', 4, { runsPerSec: 70 }),
    ];
    const peer = [
      measurement('restate', 2, { runsPerSec: 100 }),
      measurement('restate', 1, { runsPerSec: 50 }),
      measurement('restate', 3, { runsPerSec: 0 }),
      measurement('restate', 4, { runsPerSec: 10 }, 'error'),
    ];
    expect(perRepRatios(orchestron, peer, 'runsPerSec')).toEqual([2, 3]);
  });

  it('gives one row per Orchestron system and peer, never for floors, with the median and spread of the ratios', () => {
    const rows = computeRatios(
      [
        measurement('orchestron-embedded', 1, { p50Ms: 10 }),
        measurement('orchestron-embedded', 2, { p50Ms: 30 }),
        measurement('orchestron-embedded', 3, { p50Ms: 12 }),
        measurement('dbos', 1, { p50Ms: 20 }),
        measurement('dbos', 2, { p50Ms: 20 }),
        measurement('dbos', 3, { p50Ms: 40 }),
        measurement('floor-sqlite', 1, { p50Ms: 1 }),
      ],
      ['W1-chain3-x50'],
    );
    expect(rows.map((r) => `${r.orchestron}/${r.peer}`)).toEqual(['orchestron-embedded/dbos']);
    expect(rows[0]?.ratios.p50Ms).toEqual({ median: 0.5, min: 0.3, max: 1.5, n: 3 });
    expect(rows[0]?.ratios.runsPerSec).toBeNull();
  });

  it('summarises a system on a case over its repetitions, process by process', () => {
    const summary = summarize('dbos', 'W1-chain3-x50', [
      measurement('dbos', 1, { runsPerSec: 10 }),
      measurement('dbos', 2, { runsPerSec: 30 }),
      measurement('dbos', 3, {}, 'error'),
    ]);
    expect(summary.reps).toBe(2);
    expect(summary.metrics.runsPerSec).toEqual({ median: 20, min: 10, max: 30, n: 2 });
    expect(summary.processes[0]?.peakRssMb).toEqual({ median: 101.5, min: 101, max: 102, n: 2 });
  });
});

describe('the markdown report', () => {
  it('formats medians with their spread, and ratios with ×', () => {
    expect(num(1234.5)).toBe('1235');
    expect(num(12.345)).toBe('12.3');
    expect(num(0.012345)).toBe('0.0123');
    expect(num(null)).toBe('–');
    expect(spread({ median: 2, min: 1, max: 3, n: 3 })).toBe('2.00 (1.00–3.00)');
    expect(spread({ median: 2, min: 2, max: 2, n: 1 })).toBe('2.00');
    expect(ratio({ median: 0.5, min: 0.25, max: 1, n: 2 })).toBe('0.500× (0.250–1.00)');
  });

  it('shows the headline, the ratio tables and every case from the measurements', () => {
    const plan = buildPlan({ quick: true, systems: ['orchestron-embedded', 'restate'], workloads: ['W1'], reps: 1 });
    const measurements = ['orchestron-embedded', 'restate'].flatMap((system) =>
      plan.cases.map((c) => ({
        ...measurement(system as SystemName, 1, { runsPerSec: system === 'restate' ? 40 : 100, p50Ms: 5 }),
        caseId: c.id,
      })),
    );
    const results = buildResults({
      plan,
      startedAt: '2026-12-05T00:00:00.000Z',
      finishedAt: '2026-12-05T00:01:00.000Z',
      environment: { machine: { cpus: 2, cpuModel: 'x', memoryGiB: 1, kernel: 'k' }, versions: { node: 'v24' } },
      settings: { restate: { partitions: 4 } },
      measurements,
    });
    const md = renderMarkdown(results);
    expect(md).toContain('## Headline: W1, 3-step no-op runs');
    expect(md).toContain('### orchestron-embedded ÷ restate');
    expect(md).toMatch(/\| W1-chain3-x50 \| 2\.50× \| – \| 1\.00× /);
    for (const c of plan.cases) expect(md).toContain(`### ${c.id}: `);
    expect(md).toContain('  - partitions: 4');
  });
});

describe('the plan and the command line', () => {
  it("schedules W1 at 1 and 50 in flight, W4 with 1,000 runs, and floors on W1's 1-step chain only", () => {
    const ids = allCases(['W1', 'W2', 'W3', 'W4'], false).map((c) => c.id);
    expect(ids).toEqual([
      'W1-chain1-x1',
      'W1-chain1-x50',
      'W1-chain3-x1',
      'W1-chain3-x50',
      'W1-chain10-x1',
      'W1-chain10-x50',
      'W2-fanout10-x1',
      'W2-fanout10-x10',
      'W2-fanout100-x1',
      'W2-fanout100-x10',
      'W3-chain3-work10ms-x1',
      'W3-chain3-work10ms-x50',
      'W4-kill9-x1000',
    ]);
    const plan = buildPlan({ quick: false, systems: ['floor-kafka', 'dbos'], workloads: ['W1', 'W4'], reps: 5 });
    expect(plan.casesBySystem['floor-kafka']).toEqual(['W1-chain1-x1', 'W1-chain1-x50']);
    expect(plan.casesBySystem.dbos).toHaveLength(7);
  });

  it('reads the options, defaulting reps to 5 and 1 with --quick, and refuses unknown names', () => {
    expect(parseOptions([])?.reps).toBe(5);
    expect(parseOptions(['--quick'])?.reps).toBe(1);
    expect(parseOptions(['--systems', 'restate,orchestron-embedded'])?.systems).toEqual([
      'orchestron-embedded',
      'restate',
    ]);
    expect(parseOptions(['--help'])).toBeNull();
    expect(() => parseOptions(['--systems', 'temporal'])).toThrow(/--systems: unknown temporal/);
    expect(() => parseOptions(['--reps', '0'])).toThrow(/--reps must be an integer/);
  });
});

describe('the closed loop', () => {
  it('keeps the lanes full, counts steps and failures, and stops at the count', async () => {
    let running = 0;
    let most = 0;
    const sample = await closedLoop(3, 10, 60, async (i) => {
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, 2));
      running--;
      if (i === 4) throw new Error('boom');
      return 2;
    });
    expect(most).toBe(3);
    expect(sample.runs).toBe(9);
    expect(sample.failed).toBe(1);
    expect(sample.steps).toBe(18);
    expect(sample.firstError).toBe('boom');
    expect(sample.latenciesMs).toHaveLength(9);
  });
});

describe('the charts', () => {
  it('put a log-scale y axis on whole decades around the values', () => {
    const { ticks, y } = logScale([3, 250]);
    expect(ticks).toEqual([1, 10, 100, 1000]);
    expect(y(10)).toBeGreaterThan(y(100));
  });
});

describe('starting a system', () => {
  const driver = (failures: number, calls: string[]): Driver =>
    ({
      system: 'restate',
      async start() {
        calls.push('start');
        if (calls.filter((c) => c === 'start').length <= failures) throw new Error(`bind failed (${calls.length})`);
      },
      async stop() {
        calls.push('stop');
      },
    }) as unknown as Driver;
  const logged = (lines: string[]): Progress => ({ ...lineProgress(() => undefined), log: (l) => lines.push(l) });

  it('retries a failed start once, after a stop, and logs why', async () => {
    const calls: string[] = [];
    const lines: string[] = [];
    await startOrRetry(driver(1, calls), 'rep 1/1 restate', logged(lines));
    expect(calls).toEqual(['start', 'stop', 'start']);
    expect(lines).toEqual(['rep 1/1 restate: start failed, retrying once: bind failed (1)']);
  });

  it('gives up on the second failure with its reason', async () => {
    const calls: string[] = [];
    await expect(startOrRetry(driver(2, calls), 'x', logged([]))).rejects.toThrow('bind failed (3)');
    expect(calls).toEqual(['start', 'stop', 'start']);
  });

  it("keeps the end of a process's log on one line, for a reason that outlives the log", () => {
    const dir = mkdtempSync(join(tmpdir(), 'benchh-tail-'));
    const file = join(dir, 'server.log');
    writeFileSync(file, `old run\n${'x'.repeat(700)}\nAddress already in use (os error 98)\n`);
    try {
      const tail = logTail(file, 'old run\n'.length);
      expect(tail.startsWith('…')).toBe(true);
      expect(tail.length).toBeLessThan(610);
      expect(tail).not.toContain('old run');
      expect(tail.endsWith(' ⏎ Address already in use (os error 98)')).toBe(true);
      writeFileSync(file, '');
      expect(logTail(file)).toBe(`(${file} is empty)`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
