import { describe, expect, it } from '@jest/globals';
import { recoveryOf } from './recovery.ts';
import { faultTable, passed, recoveryCell } from './report.ts';
import type { RoundResult } from './round.ts';

const round = (over: Partial<RoundResult> = {}): RoundResult => ({
  fault: 'orchestrator',
  planned: 100,
  started: 100,
  peakInFlight: 80,
  injections: [],
  statuses: new Map([
    [201, 100],
    [503, 4],
  ]),
  serverErrors: 0,
  crashes: [],
  unanswered: 0,
  startRetries: 4,
  approvals: 10,
  startedAt: 0,
  durationMs: 30_000,
  lost: 0,
  stuck: 0,
  wrong: 0,
  duplicates: 0,
  executions: 400,
  details: [],
  ...over,
});

const injection = (recoveredMs: number | undefined, stallMs = 1_000) => ({
  fault: 'orchestrator' as const,
  target: 'orchestrator-1',
  at: 10_000,
  clearedAt: 12_000,
  inFlight: 50,
  recovery: { rateBefore: 10, stallMs, recoveredMs },
});

describe('the fault table', () => {
  it('passes a round only when nothing was lost, stuck, wrong, done twice or answered with a 5xx', () => {
    expect(passed(round())).toBe(true);
    for (const bad of [{ lost: 1 }, { stuck: 1 }, { wrong: 1 }, { duplicates: 1 }, { serverErrors: 1 }])
      expect(passed(round(bad))).toBe(false);
  });

  it('shows the median and the worst recovery, and "never" when one injection never recovered', () => {
    expect(recoveryCell(round({ injections: [injection(1_000), injection(3_000), injection(2_000)] }))).toBe(
      '2.0 s / 3.0 s',
    );
    expect(recoveryCell(round({ injections: [injection(1_000), injection(undefined)] }))).toBe('never (1 of 2)');
    expect(recoveryCell(round())).toBe('—');
  });

  it('puts one row per round, with the retryable 503s beside the 5xx that are not', () => {
    const table = faultTable([
      round({ fault: 'none' }),
      round({ serverErrors: 2, injections: [injection(500, 4_200)] }),
    ]);
    const rows = table.split('\n');
    expect(rows).toHaveLength(4);
    expect(rows[2]).toMatch(
      /^\| none \(the oracle check\) \| 0 \| 100 \| 80 \| 0 \| 0 \| 0 \| 0 \| 0 \(4\) \|.*\| pass \|$/,
    );
    expect(rows[3]).toMatch(
      /^\| kill -9 an orchestrator \| 1 \|.*\| 2 \(4\) \| 0 \| 4\.2 s \| 0\.5 s \/ 0\.5 s \| FAIL \|$/,
    );
  });
});

describe('recovery from the runs ending', () => {
  // Ten runs a second end until the fault at 10 s; none for 3 s; then ten a second again.
  const endings = [
    ...Array.from({ length: 100 }, (_, i) => ({ at: i * 100, partition: i % 3 })),
    ...Array.from({ length: 100 }, (_, i) => ({ at: 13_000 + i * 100, partition: i % 3 })),
  ];

  it('measures the stall and the time back to 80% of the rate before the fault', () => {
    const recovery = recoveryOf(endings, { at: 10_000, clearedAt: 11_000 }, 30_000);
    expect(recovery.rateBefore).toBe(10);
    expect(recovery.stallMs).toBeGreaterThanOrEqual(3_000);
    expect(recovery.stallMs).toBeLessThan(3_200);
    expect(recovery.recoveredMs).toBeGreaterThan(3_000);
    expect(recovery.recoveredMs).toBeLessThan(6_000);
  });

  it('does not count the quiet after the last run as a stall, and says never when the rate never came back', () => {
    const early = endings.filter((e) => e.at < 10_000);
    const recovery = recoveryOf([...early, { at: 10_500, partition: 0 }], { at: 10_000, clearedAt: 10_000 }, 60_000);
    expect(recovery.stallMs).toBe(500);
    expect(recovery.recoveredMs).toBeUndefined();
  });
});
