import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { FAULTS } from '../faults/faults.ts';
import { faultTable, passed } from '../faults/report.ts';
import { runSuite } from '../faults/suite.ts';

/**
 * The short form of `npm run test:faults`: the same suite on its own stack and broker, one of the faults, drawn by
 * the seed (another on each run; one, so that `npm test` stays under 15 minutes on 2 cores), injected once while 100
 * runs are in flight (the full suite: every fault three times, with 1,000), and a smaller hostile storm against the
 * stack's topics and API. Every round must lose nothing, leave nothing stuck, end every run as predicted, execute
 * nothing twice and answer no 5xx but a retryable 503. The seed is in the test's name: `ORCHESTRON_FAULTS_SEED=<seed>`
 * draws the same fault again, `ORCHESTRON_FAULTS_SHORT=all` takes all.
 */
const SEED = Number(process.env.ORCHESTRON_FAULTS_SEED ?? Math.floor(Math.random() * 1_000_000));
const DRAWN = process.env.ORCHESTRON_FAULTS_SHORT === 'all' ? [...FAULTS] : draw(FAULTS, 1, SEED);

/** `count` of the faults, the same ones for the same seed (ordered by a hash of seed and place), in suite order. */
function draw<T>(items: readonly T[], count: number, seed: number): T[] {
  const rank = (i: number): string => createHash('sha256').update(`${seed}:${i}`).digest('hex');
  const chosen = new Set([...items.keys()].sort((a, b) => rank(a).localeCompare(rank(b))).slice(0, count));
  return items.filter((_, i) => chosen.has(i));
}

describe('the fault suite, short form', () => {
  it(`loses nothing through each fault: ${DRAWN.join(', ')} (seed ${SEED})`, async () => {
    const result = await runSuite({
      faults: DRAWN,
      runs: 150,
      inFlight: 100,
      repeats: 1,
      seed: SEED,
      sessionTimeoutMs: 3_000,
      partitions: 3,
      workMs: 20,
      approveAfterMs: 2_000,
      hostile: 40,
      pgUrl: process.env.ORCHESTRON_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
      keepLogs: false,
      log: (line) => void process.stdout.write(`${line}\n`),
    });
    process.stdout.write(`\n${faultTable(result.rounds)}\nseed ${SEED}\n`);
    expect(result.rounds.map((r) => r.fault)).toEqual(['none', ...DRAWN]);
    expect(
      result.rounds.filter((r) => !passed(r)).map((r) => ({ fault: r.fault, details: r.details.slice(0, 5) })),
    ).toEqual([]);
    // Every fault really hit work in flight.
    for (const round of result.rounds.slice(1)) {
      expect(round.injections).toHaveLength(1);
      expect(round.injections[0]?.inFlight).toBeGreaterThan(0);
    }
    expect(result.hostile).toMatchObject({ withoutReason: 0, notRefused: [], deadServices: [] });
    expect(result.hostile?.deadLettered).toBe(result.hostile?.published);
    expect(result.hostile?.afterwardMs).toBeDefined();
    expect(result.ok).toBe(true);
  }, 900_000);
});
