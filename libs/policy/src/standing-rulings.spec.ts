import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { createPolicyEngine } from './index.ts';
import type { GovernanceRequest } from './index.ts';
import { toCedarRequest } from './cedar-request.ts';
import { OPTIONAL_RUN_ATTRIBUTES, RUN_ATTRIBUTES, STEP_ATTRIBUTES } from './standing-rulings.ts';

const BUSINESS_HOURS = Date.UTC(2025, 0, 8, 10, 30);
const EXAMPLES = ['onboarding', 'payments', 'patient-records'].map((name) => ({
  name: `${name}.cedar`,
  text: readFileSync(new URL(`../../../examples/policies/${name}.cedar`, import.meta.url), 'utf8'),
}));
const BASELINE = '@id("baseline-allow") @reason("baseline") permit(principal, action, resource);';

function engineOf(...texts: string[]) {
  return createPolicyEngine(texts.map((text, index) => ({ name: `p${index}.cedar`, text })));
}

function request(overrides: Partial<GovernanceRequest> = {}): GovernanceRequest {
  return {
    runId: 'run-1',
    definitionId: 'orders',
    definitionVersion: 1,
    stepId: 'ship',
    worker: 'shipping',
    input: { amount: 5 },
    runInput: { customer: 'c-1' },
    actor: 'producer:shop',
    now: BUSINESS_HOURS,
    ...overrides,
  };
}

describe('standing rulings: an allow that holds for every run of the step (ADR 40)', () => {
  it('a baseline permit with no forbid that could apply stands, naming the permit', () => {
    const decision = engineOf(BASELINE).evaluate(request());
    expect(decision).toMatchObject({ outcome: 'allow', standing: { policyId: 'baseline-allow', reason: 'baseline' } });
  });

  it('no policies loaded: every step is allowed, for every run', () => {
    expect(createPolicyEngine([]).evaluate(request()).standing).toEqual({
      policyId: null,
      reason: 'no policies loaded',
    });
  });

  it('the example policies: only steps no forbid could catch stand', () => {
    const engine = createPolicyEngine(EXAMPLES);
    // Forbids read the step's input, the run's input, or the time for these steps: allowed now, but never standing.
    const allowedNotStanding = [
      request({ stepId: 'create-account', worker: 'identity', input: { email: 'ada@example.com' } }),
      request({ stepId: 'pay', worker: 'payments', action: 'charge', input: { amount: 10 } }),
      request({ stepId: 'wire', worker: 'payments', action: 'wire-transfer' }),
      request({ stepId: 'read', worker: 'records', action: 'read-patient-record', input: { purpose: 'care' } }),
    ];
    for (const asked of allowedNotStanding) {
      const decision = engine.evaluate(asked);
      expect([asked.stepId, decision.outcome, decision.standing]).toEqual([asked.stepId, 'allow', undefined]);
    }
    // A step none of them names is allowed by the baseline whatever its input.
    expect(engine.evaluate(request({ stepId: 'notify', worker: 'mail', action: 'send' })).standing).toEqual({
      policyId: 'baseline-allow',
      reason: 'allowed by the onboarding baseline',
    });
  });

  it('a permit that reads who started the run, the run itself or a group does not stand, though it allows now', () => {
    const byActor = '@id("alice") permit(principal, action, resource) when { principal.actor == "producer:shop" };';
    const byRun = '@id("run-1") permit(principal == Orchestron::Run::"run-1", action, resource);';
    for (const text of [byActor, byRun]) {
      const decision = engineOf(text).evaluate(request());
      expect(decision.outcome).toBe('allow');
      expect(decision.standing).toBeUndefined();
    }
  });

  it('a forbid guarded by `has` on an input the first request lacks still keeps the step from standing', () => {
    // The first run has no run input (null: absent from Cedar's context); a later one has a large amount.
    const limit = `@id("limit") forbid(principal, action, resource)
      when { context has runInput && context.runInput has amount && context.runInput.amount > 1000 };`;
    const engine = engineOf(BASELINE, limit);
    const first = engine.evaluate(request({ runInput: null }));
    expect([first.outcome, first.standing]).toEqual(['allow', undefined]);
    expect(engine.evaluate(request({ runInput: { amount: 5000 } })).outcome).toBe('deny');
  });

  it('a forbid on a missing input keeps the steps that have one from standing', () => {
    const needsInput = '@id("needs-input") forbid(principal, action, resource) when { !(context has input) };';
    const engine = engineOf(BASELINE, needsInput);
    const first = engine.evaluate(request({ input: { amount: 5 } }));
    expect([first.outcome, first.standing]).toEqual(['allow', undefined]);
    expect(engine.evaluate(request({ input: null })).outcome).toBe('deny');
  });

  it('an approval forbid that reads the input keeps the step from standing', () => {
    const big = `@id("big") @outcome("require_approval") forbid(principal, action, resource)
      when { context has input && context.input has amount && context.input.amount > 100 };`;
    const first = engineOf(BASELINE, big).evaluate(request({ input: { amount: 5 } }));
    expect([first.outcome, first.standing]).toEqual(['allow', undefined]);
  });

  it('a policy that names a run entity turns standing rulings off for every step', () => {
    // Such a literal has attributes in a real evaluation (the run of the request) and none in the partial one.
    const named = '@id("named") forbid(principal, action, resource) when { Orchestron::Run::"run-2" has actor };';
    const engine = engineOf(BASELINE, named);
    const first = engine.evaluate(request());
    expect([first.outcome, first.standing]).toEqual(['allow', undefined]);
    expect(engine.evaluate(request({ runId: 'run-2' })).outcome).toBe('deny');
  });

  it("the attributes it reasons about are exactly those of Cedar's context, the optional ones absent when null", () => {
    const keys = (r: GovernanceRequest) => Object.keys(toCedarRequest(r).context).sort();
    expect(keys(request())).toEqual([...STEP_ATTRIBUTES, ...RUN_ATTRIBUTES, ...OPTIONAL_RUN_ATTRIBUTES].sort());
    expect(keys(request({ input: null, runInput: null }))).toEqual([...STEP_ATTRIBUTES, ...RUN_ATTRIBUTES].sort());
  });

  it('a forbid on the time of day or the definition version keeps every step it could catch from standing', () => {
    const night = '@id("night") forbid(principal, action, resource) when { context.hourUtc < 6 };';
    const version = '@id("v1") forbid(principal, action, resource) when { principal.definitionVersion > 3 };';
    for (const forbid of [night, version]) {
      const decision = engineOf(BASELINE, forbid).evaluate(request());
      expect(decision.outcome).toBe('allow');
      expect(decision.standing).toBeUndefined();
    }
  });

  it('a forbid that names other steps leaves this one standing; the step it names is denied or checked each time', () => {
    const onlyRefunds = `@id("no-refunds") forbid(principal, action, resource)
      when { resource has action && resource.action == "refund" };`;
    const engine = engineOf(BASELINE, onlyRefunds);
    expect(engine.evaluate(request()).standing?.policyId).toBe('baseline-allow');
    const refund = engine.evaluate(request({ stepId: 'refund', action: 'refund' }));
    expect([refund.outcome, refund.standing]).toEqual(['deny', undefined]);
  });

  it('a policy that errors on this request (an attribute read without `has`) never lets an allow stand', () => {
    // (a forbid that errors denies: fail closed; a permit that errors is skipped and reported)
    const careless = '@id("careless") permit(principal, action, resource) when { context.input.missing == 1 };';
    const decision = engineOf(BASELINE, careless).evaluate(request());
    expect(decision.outcome).toBe('allow');
    expect(decision.errors).toHaveLength(1);
    expect(decision.standing).toBeUndefined();
  });

  it('a permit that holds only for some inputs stands only through the permit that always applies', () => {
    const small = `@id("small") @reason("small amounts") permit(principal, action, resource)
      when { context has input && context.input has amount && context.input.amount < 10 };`;
    // Loaded first, `small` decides this request; the standing ruling names the baseline, which applies to any input.
    const decision = engineOf(small, BASELINE).evaluate(request());
    expect(decision).toMatchObject({ outcome: 'allow', policyId: 'small' });
    expect(decision.standing).toEqual({ policyId: 'baseline-allow', reason: 'baseline' });
    expect(engineOf(small).evaluate(request()).standing).toBeUndefined();
  });
});
