import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { createPolicyEngine } from '@orchestron/policy';
import type { GovernanceRequest } from '@orchestron/policy';

// The whole directory, as the governance service loads it: onboarding.cedar's baseline permit lets every
// step through unless a forbid in the other files applies.
const POLICIES = new URL('../../../examples/policies/', import.meta.url);
const files = readdirSync(POLICIES)
  .filter((name) => name.endsWith('.cedar'))
  .sort();
const engine = createPolicyEngine(files.map((name) => ({ name, text: readFileSync(new URL(name, POLICIES), 'utf8') })));

/** 2025-01-07 is a Tuesday, 2025-01-11 a Saturday. */
const TUESDAY_10_UTC = Date.UTC(2025, 0, 7, 10);
const TUESDAY_20_UTC = Date.UTC(2025, 0, 7, 20);
const SATURDAY_10_UTC = Date.UTC(2025, 0, 11, 10);

function step(
  definitionId: string,
  stepId: string,
  worker: string,
  action: string,
  input: unknown,
  now = TUESDAY_10_UTC,
): GovernanceRequest {
  return {
    runId: 'run-1',
    definitionId,
    definitionVersion: 1,
    stepId,
    worker,
    action,
    input,
    runInput: input,
    actor: 'producer:test',
    now,
  };
}

const charge = (amount: unknown): GovernanceRequest =>
  step('vendor-payment', 'pay-vendor', 'payments', 'charge', { amount, vendor: 'acme' });
const readRecord = (input: unknown): GovernanceRequest =>
  step('patient-record-access', 'read-record', 'records', 'read-patient-record', input);
const wire = (now: number): GovernanceRequest =>
  step('treasury', 'send-wire', 'payments', 'wire-transfer', { amount: 10 }, now);

describe('examples/policies', () => {
  it('loads the payment and patient-record policies beside the onboarding ones', () => {
    expect(files).toEqual(expect.arrayContaining(['onboarding.cedar', 'patient-records.cedar', 'payments.cedar']));
    expect(engine.policyIds).toEqual(
      expect.arrayContaining([
        'baseline-allow',
        'payment-over-limit',
        'wire-transfers-business-hours',
        'patient-record-needs-purpose',
      ]),
    );
  });

  describe('payment-over-limit', () => {
    it('asks for approval before charging 1500', () => {
      expect(engine.evaluate(charge(1500))).toMatchObject({
        outcome: 'require_approval',
        policyId: 'payment-over-limit',
        reason: "charges over 1000 need an operator's approval",
      });
    });

    it('allows charging 200, and exactly the limit', () => {
      expect(engine.evaluate(charge(200))).toMatchObject({ outcome: 'allow', policyId: 'baseline-allow' });
      expect(engine.evaluate(charge(1000)).outcome).toBe('allow');
      expect(engine.evaluate(charge(200)).errors).toBeUndefined();
    });

    it('does not apply to other actions of the payments worker, whatever the amount', () => {
      const validate = step('vendor-payment', 'validate-invoice', 'payments', 'validate-invoice', {
        amount: 5000,
        vendor: 'acme',
      });
      expect(engine.evaluate(validate)).toMatchObject({ outcome: 'allow', policyId: 'baseline-allow' });
    });

    it('denies (fail closed) a charge whose amount it cannot compare', () => {
      expect(engine.evaluate(charge(1500.5))).toMatchObject({ outcome: 'deny', policyId: 'payment-over-limit' });
    });
  });

  describe('patient-record-needs-purpose', () => {
    it('denies reading a record without a purpose, with the policy id and reason', () => {
      const expected = {
        outcome: 'deny',
        policyId: 'patient-record-needs-purpose',
        reason: 'reading a patient record needs a stated purpose (a non-empty input.purpose)',
      };
      expect(engine.evaluate(readRecord({ patientId: 'p-1' }))).toMatchObject(expected);
      expect(engine.evaluate(readRecord({ patientId: 'p-1', purpose: '' }))).toMatchObject(expected);
      expect(engine.evaluate(readRecord(null))).toMatchObject(expected);
    });

    it('allows reading a record for a stated purpose', () => {
      expect(engine.evaluate(readRecord({ patientId: 'p-1', purpose: 'treatment' }))).toMatchObject({
        outcome: 'allow',
        policyId: 'baseline-allow',
      });
    });
  });

  describe('wire-transfers-business-hours', () => {
    it('allows a wire transfer on Tuesday at 10:00 UTC', () => {
      expect(engine.evaluate(wire(TUESDAY_10_UTC))).toMatchObject({ outcome: 'allow', policyId: 'baseline-allow' });
    });

    it('denies a wire transfer on Tuesday at 20:00 UTC and on Saturday at 10:00 UTC', () => {
      const expected = {
        outcome: 'deny',
        policyId: 'wire-transfers-business-hours',
        reason: 'wire transfers run only 08:00-18:00 UTC, Monday to Friday',
      };
      expect(engine.evaluate(wire(TUESDAY_20_UTC))).toMatchObject(expected);
      expect(engine.evaluate(wire(SATURDAY_10_UTC))).toMatchObject(expected);
    });

    it('has its window edges at 08:00 (open) and 18:00 (closed)', () => {
      expect(engine.evaluate(wire(Date.UTC(2025, 0, 7, 7, 59))).outcome).toBe('deny');
      expect(engine.evaluate(wire(Date.UTC(2025, 0, 7, 8, 0))).outcome).toBe('allow');
      expect(engine.evaluate(wire(Date.UTC(2025, 0, 7, 17, 59))).outcome).toBe('allow');
      expect(engine.evaluate(wire(Date.UTC(2025, 0, 7, 18, 0))).outcome).toBe('deny');
    });
  });

  it('leaves the onboarding tour alone', () => {
    const create = step('employee-onboarding', 'create-account', 'identity', 'create', { email: 'ada@example.com' });
    expect(engine.evaluate({ ...create, action: undefined })).toMatchObject({
      outcome: 'allow',
      policyId: 'baseline-allow',
    });
    expect(engine.evaluate(create).errors).toBeUndefined();
  });
});
