import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { admit, flowGateConfig, flowStateAt, initialFlowState, onAbandoned, onDispatched, onOutcome } from './index.ts';
import type { Admission, FlowGateConfig, WorkerFlowState } from './index.ts';

const T0 = 1_700_000_000_000;
const config = flowGateConfig({ failureThreshold: 3, openMs: 10_000, halfOpenProbes: 1, concurrency: 2 });

/** Admits one attempt, failing the test if the gate refuses it. */
function let1(
  state: WorkerFlowState,
  now: number,
  c: FlowGateConfig = config,
): { state: WorkerFlowState; probe: number | null } {
  const a = admit(c, state, now);
  if (!a.admitted) throw new Error(`expected admission, got ${a.reason}`);
  return { state: a.state, probe: a.probe };
}

/** Sends and fails `n` attempts one after the other. */
function failures(n: number, from: WorkerFlowState, now: number): WorkerFlowState {
  let s = from;
  for (let i = 0; i < n; i++) s = onOutcome(config, let1(s, now).state, { success: false, probe: null }, now);
  return s;
}

const refused = (a: Admission) => (a.admitted ? 'admitted' : a.reason);

describe('flow gate: circuit breaker', () => {
  it('opens after failureThreshold consecutive failures, and a success in between resets the count', () => {
    const twice = failures(2, initialFlowState(), T0);
    expect(twice).toMatchObject({ breaker: 'closed', consecutiveFailures: 2 });
    const reset = onOutcome(config, let1(twice, T0).state, { success: true, probe: null }, T0);
    expect(reset).toMatchObject({ breaker: 'closed', consecutiveFailures: 0 });
    const opened = failures(3, reset, T0 + 5);
    expect(opened).toMatchObject({ breaker: 'open', consecutiveFailures: 3, openedAt: T0 + 5, inflight: 0 });
  });

  it('refuses everything while open, saying when to ask again; runs wait rather than fail', () => {
    const opened = failures(3, initialFlowState(), T0);
    const a = admit(config, opened, T0 + 9_999);
    expect(a).toEqual({ admitted: false, reason: 'breaker_open', retryAt: T0 + 10_000, state: opened });
  });

  it('turns half-open after openMs and lets halfOpenProbes probes through, no more', () => {
    const opened = failures(3, initialFlowState(), T0);
    expect(flowStateAt(config, opened, T0 + 10_000).breaker).toBe('half_open');
    const probe = let1(opened, T0 + 10_000);
    expect(probe.probe).toBe(T0);
    expect(probe.state).toMatchObject({ breaker: 'half_open', inflight: 1, probesInFlight: 1 });
    expect(refused(admit(config, probe.state, T0 + 10_001))).toBe('breaker_open');
    const two = flowGateConfig({ ...config, halfOpenProbes: 2 });
    const second = admit(two, let1(opened, T0 + 10_000, two).state, T0 + 10_001);
    expect(second).toMatchObject({ admitted: true, probe: T0 });
  });

  it('a probe success closes it', () => {
    const probe = let1(failures(3, initialFlowState(), T0), T0 + 10_000);
    const closed = onOutcome(config, probe.state, { success: true, probe: probe.probe }, T0 + 10_500);
    expect(closed).toEqual({
      breaker: 'closed',
      consecutiveFailures: 0,
      openedAt: null,
      inflight: 0,
      probesInFlight: 0,
      tokens: null,
      refilledAt: 0,
    });
    expect(admit(config, closed, T0 + 10_501).admitted).toBe(true);
  });

  it('a probe failure reopens it for another openMs', () => {
    const probe = let1(failures(3, initialFlowState(), T0), T0 + 10_000);
    const reopened = onOutcome(config, probe.state, { success: false, probe: probe.probe }, T0 + 10_500);
    expect(reopened).toMatchObject({ breaker: 'open', openedAt: T0 + 10_500, inflight: 0, probesInFlight: 0 });
    expect(admit(config, reopened, T0 + 20_000)).toMatchObject({
      admitted: false,
      reason: 'breaker_open',
      retryAt: T0 + 20_500,
    });
  });

  it('while half-open, an attempt sent before the breaker opened only frees its slot', () => {
    // Given two attempts out, and three failures that open the breaker meanwhile
    let s = initialFlowState();
    s = onDispatched(onDispatched(s));
    s = onOutcome(config, s, { success: false, probe: null }, T0);
    s = onOutcome(config, onDispatched(s), { success: false, probe: null }, T0);
    s = onOutcome(config, onDispatched(s), { success: false, probe: null }, T0);
    expect(s).toMatchObject({ breaker: 'open', inflight: 1 });
    const probe = let1(s, T0 + 10_000);
    // When the old attempt succeeds, Then the breaker still waits for its probe
    const old = onOutcome(config, probe.state, { success: true, probe: null }, T0 + 10_100);
    expect(old).toMatchObject({ breaker: 'half_open', inflight: 1, probesInFlight: 1 });
    // and a probe from an earlier open period does not count as this period's probe either
    expect(onOutcome(config, probe.state, { success: true, probe: T0 - 1 }, T0 + 10_100)).toMatchObject({
      breaker: 'half_open',
    });
  });

  it('outcomes while open free their slot and leave it open', () => {
    const s = onOutcome(
      config,
      onDispatched(failures(3, initialFlowState(), T0)),
      { success: true, probe: null },
      T0 + 1,
    );
    expect(s).toMatchObject({ breaker: 'open', inflight: 0, openedAt: T0 });
  });
});

describe('flow gate: concurrency limit', () => {
  it('admits up to `concurrency` attempts in flight, then holds with concurrency_limit until one ends', () => {
    const two = let1(let1(initialFlowState(), T0).state, T0).state;
    expect(two.inflight).toBe(2);
    expect(refused(admit(config, two, T0))).toBe('concurrency_limit');
    const one = onOutcome(config, two, { success: true, probe: null }, T0 + 1);
    expect(admit(config, one, T0 + 1).admitted).toBe(true);
    // an abandoned attempt frees its slot too, without moving the breaker
    const abandoned = onAbandoned(config, two, null, T0 + 1);
    expect(abandoned).toMatchObject({ inflight: 1, consecutiveFailures: 0, breaker: 'closed' });
  });

  it('limits probes as well', () => {
    const opened = onDispatched(onDispatched(failures(3, initialFlowState(), T0)));
    expect(refused(admit(config, opened, T0 + 10_000))).toBe('concurrency_limit');
  });

  it('never counts below zero, whatever the runtime reports', () => {
    expect(onOutcome(config, initialFlowState(), { success: true, probe: null }, T0).inflight).toBe(0);
    expect(onAbandoned(config, initialFlowState(), null, T0).inflight).toBe(0);
  });

  it('with no limit, admits any number', () => {
    const unlimited = flowGateConfig({ concurrency: Infinity });
    let s = initialFlowState();
    for (let i = 0; i < 1_000; i++) s = let1(s, T0, unlimited).state;
    expect(s.inflight).toBe(1_000);
  });
});

describe('flow gate: configuration', () => {
  it.each([
    [{ failureThreshold: 0 }, 'failureThreshold'],
    [{ halfOpenProbes: 1.5 }, 'halfOpenProbes'],
    [{ openMs: -1 }, 'openMs'],
    [{ openMs: Number.NaN }, 'openMs'],
    [{ concurrency: 0 }, 'concurrency'],
  ] as const)('rejects %j, naming %s', (partial, field) => {
    expect(() => flowGateConfig(partial)).toThrow(new RegExp(`^flow gate ${field} must be`));
  });

  it('fills what is not given from the defaults', () => {
    expect(flowGateConfig({ concurrency: 4 })).toEqual({
      failureThreshold: 5,
      openMs: 30_000,
      halfOpenProbes: 1,
      concurrency: 4,
      rate: Infinity,
      burst: 1,
    });
  });
});

describe('flow gate: invariants over random sequences', () => {
  type Step = { kind: 'admit' | 'success' | 'failure' | 'abandon'; dt: number };
  const steps = fc.array(
    fc.record({ kind: fc.constantFrom('admit', 'admit', 'success', 'failure', 'abandon'), dt: fc.nat(4_000) }),
    { maxLength: 200 },
  ) as fc.Arbitrary<Step[]>;

  it('in flight never exceeds the limit, probes never exceed halfOpenProbes, and only a closed or half-open gate admits', () => {
    fc.assert(
      fc.property(steps, (sequence) => {
        let s = initialFlowState();
        let now = T0;
        const out: (number | null)[] = [];
        for (const step of sequence) {
          now += step.dt;
          if (step.kind === 'admit') {
            const before = flowStateAt(config, s, now);
            const a = admit(config, s, now);
            if (a.admitted) {
              expect(before.breaker).not.toBe('open');
              out.push(a.probe);
            }
            s = a.state;
          } else if (out.length > 0) {
            const probe = out.shift() ?? null;
            s =
              step.kind === 'abandon'
                ? onAbandoned(config, s, probe, now)
                : onOutcome(config, s, { success: step.kind === 'success', probe }, now);
          }
          expect(s.inflight).toBe(out.length);
          expect(s.inflight).toBeLessThanOrEqual(config.concurrency);
          expect(s.probesInFlight).toBeLessThanOrEqual(config.halfOpenProbes);
          if (s.breaker === 'closed') expect(s.consecutiveFailures).toBeLessThan(config.failureThreshold);
        }
      }),
      { numRuns: 300 },
    );
  });
});
