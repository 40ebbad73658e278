import { describe, expect, it } from '@jest/globals';
import { createPolicyEngine } from './policy-engine.ts';
import type { GovernanceRequest } from './governance.types.ts';

const WEDNESDAY_10_30_UTC = Date.UTC(2025, 0, 8, 10, 30);
const WEDNESDAY_18_00_UTC = Date.UTC(2025, 0, 8, 18, 0);
const SATURDAY_10_30_UTC = Date.UTC(2025, 0, 11, 10, 30);

function request(overrides: Partial<GovernanceRequest> = {}): GovernanceRequest {
  return {
    runId: 'run-1',
    definitionId: 'onboarding',
    definitionVersion: 1,
    stepId: 'create-account',
    worker: 'accounts',
    input: { email: 'ada@example.com' },
    runInput: { email: 'ada@example.com' },
    actor: 'alice',
    now: WEDNESDAY_10_30_UTC,
    ...overrides,
  };
}

const BASELINE = '@id("baseline-allow") permit(principal, action, resource);';
const BLOCKED = `@id("blocked-domain") @reason("blocked domain")
forbid(principal, action, resource) when { context.input has email && context.input.email like "*@blocked.example" };`;
const CONTRACTOR = `@id("contractor") @outcome("require_approval") @reason("contractors need approval")
forbid(principal, action, resource) when { context.runInput has contractor && context.runInput.contractor == true };`;

function engineOf(...texts: string[]) {
  return createPolicyEngine(texts.map((text, index) => ({ name: `p${index}.cedar`, text })));
}

describe('createPolicyEngine: decisions', () => {
  it('allows through a baseline permit', () => {
    // Given only a baseline permit
    const engine = engineOf(BASELINE);
    // When a step is evaluated
    const decision = engine.evaluate(request());
    // Then it is allowed by that policy
    expect(decision).toEqual({
      outcome: 'allow',
      policyId: 'baseline-allow',
      policyIds: ['baseline-allow'],
      reason: 'permitted by baseline-allow',
      // and, since no policy reads anything of the run, for every run of the step (ADR 40)
      standing: { policyId: 'baseline-allow', reason: 'permitted by baseline-allow' },
    });
  });

  it('denies with the forbidding policy id and reason', () => {
    // Given a baseline permit and a hard forbid on a domain
    const engine = engineOf(BASELINE, BLOCKED);
    // When a step for that domain is evaluated
    const decision = engine.evaluate(request({ input: { email: 'eve@blocked.example' } }));
    // Then it is denied by the forbid
    expect(decision).toEqual({
      outcome: 'deny',
      policyId: 'blocked-domain',
      policyIds: ['blocked-domain'],
      reason: 'blocked domain',
    });
  });

  it('requires approval when only a require_approval forbid applies', () => {
    // Given a baseline permit and an approval forbid
    const engine = engineOf(BASELINE, CONTRACTOR);
    // When a contractor's step is evaluated
    const decision = engine.evaluate(request({ runInput: { email: 'c@example.com', contractor: true } }));
    // Then it needs approval, citing the approval policy
    expect(decision).toEqual({
      outcome: 'require_approval',
      policyId: 'contractor',
      policyIds: ['contractor'],
      reason: 'contractors need approval',
    });
    // And a non-contractor is allowed
    expect(engine.evaluate(request()).outcome).toBe('allow');
  });

  it('lets a hard deny win over require_approval', () => {
    // Given an approval forbid and a hard forbid that both apply
    const engine = engineOf(CONTRACTOR, BASELINE, BLOCKED);
    // When the step is evaluated
    const decision = engine.evaluate(
      request({ input: { email: 'eve@blocked.example' }, runInput: { contractor: true } }),
    );
    // Then the hard deny decides, and both policies are reported
    expect(decision.outcome).toBe('deny');
    expect(decision.policyId).toBe('blocked-domain');
    expect(decision.reason).toBe('blocked domain');
    expect(decision.policyIds).toEqual(['contractor', 'blocked-domain']);
  });

  it('denies by default when no policy permits', () => {
    // Given policies with no permit
    const engine = engineOf(BLOCKED);
    // When a step nothing forbids is evaluated
    const decision = engine.evaluate(request());
    // Then Cedar's default deny applies
    expect(decision).toEqual({
      outcome: 'deny',
      policyId: null,
      policyIds: [],
      reason: 'no policy permits this step (Cedar default deny)',
    });
  });

  it('denies rather than asking for approval when approval could not lead to a permit', () => {
    // Given an approval forbid and no permit
    const engine = engineOf(CONTRACTOR);
    // When a contractor's step is evaluated
    const decision = engine.evaluate(request({ runInput: { contractor: true } }));
    // Then approving would not help, so it is a default deny naming the approval policy
    expect(decision).toEqual({
      outcome: 'deny',
      policyId: null,
      policyIds: ['contractor'],
      reason: 'no policy permits this step (Cedar default deny)',
    });
  });

  it('allows everything when no sources are given', () => {
    // Given no policy sources
    const engine = createPolicyEngine([]);
    // When a step is evaluated
    // Then it is allowed with no policy
    expect(engine.evaluate(request())).toEqual({
      outcome: 'allow',
      policyId: null,
      policyIds: [],
      reason: 'no policies loaded',
      standing: { policyId: null, reason: 'no policies loaded' },
    });
    expect(engine.policyIds).toEqual([]);
  });

  it('uses @reason on a permit', () => {
    // Given a permit with a reason
    const engine = engineOf('@id("ok") @reason("fine by ops") permit(principal, action, resource);');
    // When a step is evaluated
    // Then the reason is the annotation's
    expect(engine.evaluate(request()).reason).toBe('fine by ops');
  });
});

describe('createPolicyEngine: request mapping', () => {
  const OFFICE_HOURS = `@id("office-hours") @reason("payroll runs only 09:00-17:00 UTC on weekdays")
forbid(principal, action, resource) when { context.worker == "payroll" }
unless { context.weekdayUtc >= 1 && context.weekdayUtc <= 5 && context.hourUtc >= 9 && context.hourUtc < 17 };`;

  it('exposes the UTC time of day from now', () => {
    // Given an office-hours forbid on one worker
    const engine = engineOf(BASELINE, OFFICE_HOURS);
    // When the worker runs inside and outside office hours
    const inside = engine.evaluate(request({ worker: 'payroll', now: WEDNESDAY_10_30_UTC }));
    const evening = engine.evaluate(request({ worker: 'payroll', now: WEDNESDAY_18_00_UTC }));
    const weekend = engine.evaluate(request({ worker: 'payroll', now: SATURDAY_10_30_UTC }));
    // Then only the run inside office hours is allowed
    expect(inside.outcome).toBe('allow');
    expect(evening).toMatchObject({ outcome: 'deny', policyId: 'office-hours' });
    expect(weekend).toMatchObject({ outcome: 'deny', policyId: 'office-hours' });
  });

  it('exposes minuteOfDayUtc', () => {
    // Given a permit only at 10:30 UTC
    const engine = engineOf(
      '@id("half-past-ten") permit(principal, action, resource) when { context.minuteOfDayUtc == 630 };',
    );
    // When evaluated at 10:30 and 18:00
    // Then only 10:30 is permitted
    expect(engine.evaluate(request({ now: WEDNESDAY_10_30_UTC })).outcome).toBe('allow');
    expect(engine.evaluate(request({ now: WEDNESDAY_18_00_UTC })).outcome).toBe('deny');
  });

  it('passes non-integer numbers to Cedar as strings', () => {
    // Given policies that read a fractional amount as a string and as a decimal
    const engine = engineOf(
      BASELINE,
      '@id("exact") forbid(principal, action, resource) when { context.input.amount == "12.5" };',
      '@id("big") forbid(principal, action, resource) when { decimal(context.input.amount).greaterThan(decimal("100.0")) };',
    );
    // When amounts of 12.5 and 250.75 are evaluated
    // Then both are matched, with no evaluation error
    expect(engine.evaluate(request({ input: { amount: 12.5 } }))).toMatchObject({ outcome: 'deny', policyId: 'exact' });
    const big = engine.evaluate(request({ input: { amount: 250.75 } }));
    expect(big).toMatchObject({ outcome: 'deny', policyId: 'big' });
    expect(big.errors).toBeUndefined();
  });

  it('maps principal and resource attributes', () => {
    // Given a permit on principal and resource attributes
    const engine =
      engineOf(`@id("mapped") permit(principal == Orchestron::Run::"run-1", action == Orchestron::Action::"execute", resource == Orchestron::Step::"onboarding/create-account")
when { principal.definitionId == "onboarding" && principal.definitionVersion == 3 && principal.actor == "alice" && resource.worker == "accounts" && resource.action == "create" && resource.stepId == "create-account" };`);
    // When a matching request is evaluated
    const decision = engine.evaluate(request({ definitionVersion: 3, action: 'create' }));
    // Then it is permitted, without errors
    expect(decision).toMatchObject({ outcome: 'allow', policyId: 'mapped' });
    expect(decision.errors).toBeUndefined();
  });

  it('rejects a now that is not a time', () => {
    // Given any engine with policies
    const engine = engineOf(BASELINE);
    // When now is NaN
    // Then evaluation throws instead of skipping time-based policies
    expect(() => engine.evaluate(request({ now: Number.NaN }))).toThrow(RangeError);
  });
});

describe('createPolicyEngine: evaluation errors', () => {
  const NEEDS_TICKET = '@id("needs-ticket") forbid(principal, action, resource) when { context.input.ticket == "" };';

  it('fails closed when a forbid cannot be evaluated', () => {
    // Given a forbid that reads an attribute the input lacks
    const engine = engineOf(BASELINE, NEEDS_TICKET);
    // When it is evaluated
    const decision = engine.evaluate(request());
    // Then Cedar skips it, but governance denies: the forbid might have applied
    expect(decision.outcome).toBe('deny');
    expect(decision.policyId).toBe('needs-ticket');
    expect(decision.reason).toMatch(/fail closed/);
    expect(decision.errors).toHaveLength(1);
    expect(decision.errors?.[0]).toMatch(/^needs-ticket: .*ticket/);
  });

  it('reports a permit that could not be evaluated on an allow', () => {
    // Given a permit that errors next to one that applies
    const engine = engineOf(
      BASELINE,
      '@id("vip") permit(principal, action, resource) when { context.runInput.vip == true };',
    );
    // When it is evaluated
    const decision = engine.evaluate(request({ runInput: {} }));
    // Then the step is allowed, and the skipped permit is reported
    expect(decision.outcome).toBe('allow');
    expect(decision.errors?.[0]).toMatch(/^vip: /);
  });

  it('names the skipped policy in the reason of a deny', () => {
    // Given a permit that errors and nothing else permits
    const engine = engineOf('@id("vip") permit(principal, action, resource) when { context.runInput.vip == true };');
    // When it is evaluated
    const decision = engine.evaluate(request({ runInput: {} }));
    // Then the default deny reason carries the error
    expect(decision.outcome).toBe('deny');
    expect(decision.reason).toMatch(
      /^no policy permits this step \(Cedar default deny\); policies that could not be evaluated: vip: .*vip/,
    );
    expect(decision.errors).toHaveLength(1);
  });
});

describe('createPolicyEngine: requests Cedar cannot evaluate', () => {
  const deep = (depth: number): unknown => {
    let value: unknown = 'leaf';
    for (let i = 0; i < depth; i++) value = { next: value };
    return value;
  };

  it('decides a lone surrogate in the run input as GOVERNANCE.UNEVALUABLE, naming where it is, instead of throwing', () => {
    // Given policies that would permit the step
    const engine = engineOf(BASELINE);
    // When the run input holds a lone surrogate
    const decision = engine.evaluate(request({ runInput: { name: '\ud800' } }));
    // Then the step is denied (fail closed) with the unevaluable code and a reason that names the path
    expect(decision).toMatchObject({ outcome: 'deny', code: 'GOVERNANCE.UNEVALUABLE', policyId: null, policyIds: [] });
    expect(decision.reason).toBe(
      'Cedar could not evaluate the request: context.runInput.name: the string holds a lone surrogate (\\ud800 at index 0), which is not valid Unicode',
    );
  });

  it('decides an input nested 1,000 deep as GOVERNANCE.UNEVALUABLE, naming the depth', () => {
    const engine = engineOf(BASELINE);
    const decision = engine.evaluate(request({ input: deep(1000) }));
    expect(decision).toMatchObject({ outcome: 'deny', code: 'GOVERNANCE.UNEVALUABLE' });
    expect(decision.reason).toMatch(
      /^Cedar could not evaluate the request: context\.input(\.next){64}: the value is nested deeper than 64 levels/,
    );
  });

  it('decides a lone surrogate in an id (the actor, the step) the same way', () => {
    const engine = engineOf(BASELINE);
    expect(engine.evaluate(request({ actor: 'mallory\udfff' })).reason).toMatch(
      /principal\.actor: the string holds a lone surrogate/,
    );
    expect(engine.evaluate(request({ stepId: 'x\ud800' })).reason).toMatch(
      /resource\.id \(definitionId\/stepId\): the string holds a lone surrogate/,
    );
  });

  it('leaves ordinary decisions without a code', () => {
    const engine = engineOf(BASELINE);
    expect(engine.evaluate(request({ input: deep(10) })).code).toBeUndefined();
  });
});
