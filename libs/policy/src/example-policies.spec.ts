import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { createPolicyEngine } from './index.ts';
import type { GovernanceRequest } from './index.ts';

const ONBOARDING = new URL('../../../examples/policies/onboarding.cedar', import.meta.url);
const engine = createPolicyEngine([{ name: 'onboarding.cedar', text: readFileSync(ONBOARDING, 'utf8') }]);

function step(stepId: string, input: unknown, runInput: unknown): GovernanceRequest {
  return {
    runId: 'run-1',
    definitionId: 'employee-onboarding',
    definitionVersion: 1,
    stepId,
    worker: stepId,
    input,
    runInput,
    now: Date.UTC(2025, 0, 8, 10),
  };
}

describe('examples/policies/onboarding.cedar', () => {
  it('loads with ids for every policy', () => {
    expect(engine.policyIds).toEqual(['baseline-allow', 'blocked-domain', 'contractor-needs-approval']);
  });

  it('allows every step of the default tour without errors', () => {
    // Given the default tour's run input
    const runInput = { email: 'ada@example.com', manager: true, simulate: {} };
    // When each step is evaluated
    for (const stepId of ['create-account', 'assign-permissions', 'send-welcome', 'create-workspace', 'notify-team']) {
      const decision = engine.evaluate(step(stepId, { email: 'ada@example.com' }, runInput));
      // Then it is allowed by the baseline, with nothing skipped; only create-account, which the forbids name,
      // is asked about every time (the others stand for every run, ADR 40)
      const { standing, ...ruling } = decision;
      expect(ruling).toEqual({
        outcome: 'allow',
        policyId: 'baseline-allow',
        policyIds: ['baseline-allow'],
        reason: 'allowed by the onboarding baseline',
      });
      expect(standing?.policyId).toBe(stepId === 'create-account' ? undefined : 'baseline-allow');
    }
  });

  it('denies account creation for a blocked domain', () => {
    const decision = engine.evaluate(
      step('create-account', { email: 'eve@blocked.example' }, { email: 'eve@blocked.example' }),
    );
    expect(decision).toMatchObject({
      outcome: 'deny',
      policyId: 'blocked-domain',
      reason: 'sign-ups from blocked.example are not allowed',
    });
  });

  it('asks for approval before creating a contractor account, and only that step', () => {
    const runInput = { email: 'cory@example.com', contractor: true };
    expect(engine.evaluate(step('create-account', { email: 'cory@example.com' }, runInput))).toMatchObject({
      outcome: 'require_approval',
      policyId: 'contractor-needs-approval',
      reason: 'contractor accounts need approval',
    });
    expect(engine.evaluate(step('send-welcome', { email: 'cory@example.com' }, runInput)).outcome).toBe('allow');
  });

  it('does not error for steps with no input or no run input', () => {
    const decision = engine.evaluate(step('create-account', null, null));
    expect(decision.outcome).toBe('allow');
    expect(decision.errors).toBeUndefined();
  });
});
