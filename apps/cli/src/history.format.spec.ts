import { describe, expect, it } from '@jest/globals';
import { eventSummary } from './history.format.ts';

describe('one line per event in orchestron history', () => {
  it('says when a dispatched or released attempt times out (its timer is armed by that event)', () => {
    const at = Date.UTC(2026, 11, 7, 1, 0, 0);
    const dispatched = {
      stepId: 'pay',
      attempt: 1,
      phase: 'execute',
      worker: 'payments',
      action: 'charge',
      timeoutAt: at,
    };
    expect(eventSummary({ type: 'StepDispatched', data: dispatched })).toBe(
      'pay attempt 1 execute → payments/charge, times out at 2026-12-07T01:00:00.000Z',
    );
    const released = { stepId: 'pay', attempt: 1, phase: 'execute', worker: 'payments', send: true, timeoutAt: at };
    expect(eventSummary({ type: 'StepReleased', data: released })).toBe(
      'pay attempt 1 execute released → payments, times out at 2026-12-07T01:00:00.000Z',
    );
  });

  it("says when governance's deadline passes on a request that carries it, and nothing on one recorded before", () => {
    const asked = { stepId: 'pay', worker: 'payments', action: 'charge', attempt: 1 };
    expect(
      eventSummary({ type: 'GovernanceCheckRequested', data: { ...asked, timeoutAt: Date.UTC(2026, 11, 7, 1) } }),
    ).toBe('pay worker=payments action=charge, deadline at 2026-12-07T01:00:00.000Z');
    expect(eventSummary({ type: 'GovernanceCheckRequested', data: { stepId: 'pay', worker: 'payments' } })).toBe(
      'pay worker=payments',
    );
  });

  it('says when a decision is a standing ruling recorded in place of a request', () => {
    const ruled = { stepId: 'pay', outcome: 'allow', policyId: 'baseline', reason: 'ok' };
    expect(eventSummary({ type: 'GovernanceDecided', data: ruled })).toBe(
      'pay outcome=allow policy=baseline reason="ok"',
    );
    const standing = { decidedBy: 'governance-1', attempt: 2, inputDigest: 'ab' };
    expect(eventSummary({ type: 'GovernanceDecided', data: { ...ruled, standing } })).toBe(
      'pay outcome=allow policy=baseline reason="ok", standing ruling by governance-1 for attempt 2 (no request)',
    );
  });

  it('says when a dispatch went out under a standing allow (ADR 43), and says nothing of one without', () => {
    const sent = { stepId: 'pay', attempt: 1, phase: 'execute', worker: 'payments', action: null, timeoutAt: null };
    expect(eventSummary({ type: 'StepDispatched', data: sent })).toBe('pay attempt 1 execute → payments');
    const ruling = { policyId: 'baseline', reason: 'ok', decidedBy: 'governance-1', inputDigest: 'ab' };
    expect(eventSummary({ type: 'StepDispatched', data: { ...sent, ruling } })).toBe(
      'pay attempt 1 execute → payments, allowed by standing ruling of governance-1: policy=baseline reason="ok" (no request)',
    );
  });

  it('names the locks a held attempt waits for', () => {
    const held = { stepId: 'pay', attempt: 1, phase: 'execute', reason: 'lock', worker: 'payments', locks: ['acct-1'] };
    expect(eventSummary({ type: 'StepHeld', data: held })).toBe(
      'pay attempt 1 execute held: lock (payments) for "acct-1"',
    );
  });
});
