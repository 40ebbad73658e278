import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { admit, flowGateConfig, initialFlowState, nextTokenAt, onOutcome, tokensAt } from './index.ts';
import type { Admission, WorkerFlowState } from './index.ts';

// Time is an argument: every check below is arithmetic on `now`, none waits.
const T0 = 1_700_000_000_000;
const tenPerSecond = flowGateConfig({ rate: 10, burst: 2 });
const refused = (a: Admission) => (a.admitted ? 'admitted' : a.reason);

/** Admits attempts at `now` until the gate refuses; returns how many went and the state after. */
function drain(state: WorkerFlowState, now: number, limit = 1_000): { sent: number; state: WorkerFlowState } {
  let s = state;
  let sent = 0;
  for (let a = admit(tenPerSecond, s, now); a.admitted && sent < limit; a = admit(tenPerSecond, s, now)) {
    s = a.state;
    sent++;
  }
  return { sent, state: s };
}

describe('flow gate: rate (token bucket)', () => {
  it('lets a burst out at once, then holds with rate_limit and says when the next token comes', () => {
    const { sent, state } = drain(initialFlowState(), T0);
    expect(sent).toBe(2);
    const third = admit(tenPerSecond, state, T0);
    expect(refused(third)).toBe('rate_limit');
    expect(third.admitted ? null : third.retryAt).toBe(T0 + 100);
    expect(nextTokenAt(tenPerSecond, state, T0)).toBe(T0 + 100);
    // a refusal leaves the state as it was: no slot taken, no token owed
    expect(third.state).toEqual(state);
  });

  it('refills at `rate` a second, never above `burst`', () => {
    const { state } = drain(initialFlowState(), T0);
    expect(tokensAt(tenPerSecond, state, T0 + 50)).toBeCloseTo(0.5);
    expect(admit(tenPerSecond, state, T0 + 99).admitted).toBe(false);
    expect(admit(tenPerSecond, state, T0 + 100).admitted).toBe(true);
    expect(tokensAt(tenPerSecond, state, T0 + 60_000)).toBe(2);
    expect(drain(state, T0 + 60_000).sent).toBe(2);
  });

  it('a refused attempt frees nothing else: concurrency and breaker come first', () => {
    const both = flowGateConfig({ rate: 1, burst: 1, concurrency: 1 });
    const one = admit(both, initialFlowState(), T0);
    if (!one.admitted) throw new Error('expected admission');
    expect(refused(admit(both, one.state, T0 + 5_000))).toBe('concurrency_limit');
    const freed = onOutcome(both, one.state, { success: true, probe: null }, T0 + 10);
    expect(refused(admit(both, freed, T0 + 10))).toBe('rate_limit');
    expect(admit(both, freed, T0 + 1_000).admitted).toBe(true);
  });

  it('with no rate, never refuses for one', () => {
    const unlimited = flowGateConfig({});
    let s = initialFlowState();
    for (let i = 0; i < 500; i++) {
      const a = admit(unlimited, s, T0);
      if (!a.admitted) throw new Error('refused');
      s = a.state;
    }
    expect(nextTokenAt(unlimited, s, T0)).toBeNull();
  });

  it('checks rate and burst, naming the field', () => {
    expect(() => flowGateConfig({ rate: 0 })).toThrow(/rate must be a number of attempts per second above 0/);
    expect(() => flowGateConfig({ rate: -1 })).toThrow(/flow gate rate/);
    expect(() => flowGateConfig({ rate: Number.NaN })).toThrow(/flow gate rate/);
    expect(() => flowGateConfig({ rate: 5, burst: 0 })).toThrow(/flow gate burst must be an integer of at least 1/);
    expect(() => flowGateConfig({ rate: 5, burst: 1.5 })).toThrow(/flow gate burst/);
    expect(flowGateConfig({ rate: 0.5 })).toMatchObject({ rate: 0.5, burst: 1 });
  });

  it('never lets more than burst + rate·t out in any window of t ms (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 1, max: 10 }),
        fc.array(fc.integer({ min: 0, max: 500 }), { minLength: 1, maxLength: 200 }),
        (rate, burst, gaps) => {
          const config = flowGateConfig({ rate, burst });
          let s = initialFlowState();
          let now = T0;
          const sent: number[] = [];
          for (const gap of gaps) {
            now += gap;
            const a = admit(config, s, now);
            s = a.state;
            if (a.admitted) sent.push(now);
          }
          for (let i = 0; i < sent.length; i++)
            for (let j = i; j < sent.length; j++) {
              const window = (sent[j] as number) - (sent[i] as number);
              expect(j - i + 1).toBeLessThanOrEqual(burst + Math.floor((rate * window) / 1000) + 1e-9);
            }
        },
      ),
      { numRuns: 300 },
    );
  });
});
