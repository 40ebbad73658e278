import { describe, expect, it } from '@jest/globals';
import { heldText, renderProgress, summaryLine } from './progress.renderer.ts';
import { aRun, aStep } from './testing.fixtures.ts';

describe('renderProgress', () => {
  it('prints only steps that have started on the first poll', () => {
    // Given a run just started: one step running, the rest pending
    const run = aRun([
      aStep('create-account', { status: 'running', attempt: 1 }),
      aStep('send-welcome', { needs: ['create-account'] }),
    ]);
    // When it is rendered with nothing before it
    const lines = renderProgress(null, run);
    // Then only the running step gets a line
    expect(lines).toEqual(['  ▶ create-account  running (attempt 1)']);
  });

  it('prints a line per status or attempt change and none for unchanged steps', () => {
    // Given a step that completes and another that fails its first attempt
    const before = aRun([
      aStep('create-account', { status: 'running', attempt: 1 }),
      aStep('send-welcome', { status: 'running', attempt: 1 }),
      aStep('idle', { status: 'running', attempt: 1 }),
    ]);
    const after = aRun([
      aStep('create-account', { status: 'completed', attempt: 1 }),
      aStep('send-welcome', {
        status: 'retry_scheduled',
        attempt: 1,
        error: { code: 'STEP.TIMED_OUT', message: 'no result within 10s', retryable: true },
      }),
      aStep('idle', { status: 'running', attempt: 1 }),
    ]);
    // When the change is rendered
    const lines = renderProgress(before, after);
    // Then each changed step has one line, with the error for the retry
    expect(lines).toEqual([
      '  ✓ create-account  completed (attempt 1)',
      '  ↻ send-welcome  retry scheduled after attempt 1: STEP.TIMED_OUT no result within 10s',
    ]);
  });

  it('prints a new attempt even when the status looks the same', () => {
    // Given a poll that missed the retry_scheduled in between
    const before = aRun([aStep('send-welcome', { status: 'running', attempt: 1 })]);
    const after = aRun([aStep('send-welcome', { status: 'running', attempt: 2 })]);
    // Then the second attempt still shows
    expect(renderProgress(before, after)).toEqual(['  ▶ send-welcome  running (attempt 2)']);
  });

  it('tells how to approve a step waiting for approval', () => {
    const before = aRun([aStep('budget-approval', { type: 'approval', worker: null })]);
    const after = aRun([aStep('budget-approval', { type: 'approval', worker: null, status: 'waiting_approval' })]);
    expect(renderProgress(before, after)).toEqual([
      '  ⏸ budget-approval  waiting for approval — orchestron approve run-1 --step budget-approval',
    ]);
  });

  it('shows governance decisions with outcome, policy and reason, before the status they cause', () => {
    const before = aRun([aStep('create-account', { status: 'waiting_governance' })]);
    const after = aRun([
      aStep('create-account', {
        status: 'running',
        attempt: 1,
        governance: { outcome: 'allow', policyId: 'allow-identity', reason: 'identity may create accounts' },
      }),
    ]);
    expect(renderProgress(before, after)).toEqual([
      '  ⚖ create-account  governance allow by policy allow-identity: identity may create accounts',
      '  ▶ create-account  running (attempt 1)',
    ]);
  });

  it('follows compensation and the run turning to compensate', () => {
    // Given a completed step whose run starts compensating after another step failed
    const failure = { stepId: 'send-welcome', error: { code: 'MAIL.REJECTED', message: 'bad address' } };
    const before = aRun([aStep('create-account', { status: 'completed', attempt: 1 })]);
    const compensating = aRun(
      [
        aStep('create-account', {
          status: 'completed',
          attempt: 1,
          compensation: { status: 'running', attempt: 1, error: null },
        }),
      ],
      { status: 'compensating', failure },
    );
    const compensated = aRun(
      [
        aStep('create-account', {
          status: 'completed',
          attempt: 1,
          compensation: { status: 'completed', attempt: 1, error: null },
        }),
      ],
      { status: 'compensated', failure },
    );
    // Then the run line comes first, then one line per compensation change; the terminal status is left to the summary
    expect(renderProgress(before, compensating)).toEqual([
      '↩ run compensating after send-welcome failed',
      '  ↩ create-account  compensation running (attempt 1)',
    ]);
    expect(renderProgress(compensating, compensated)).toEqual(['  ↩ create-account  compensation completed']);
  });

  it('reports skips with their kind and pause/resume of the run', () => {
    const before = aRun([aStep('budget-approval', { type: 'approval' })]);
    const paused = aRun([aStep('budget-approval', { type: 'approval', status: 'skipped', skipKind: 'condition' })], {
      status: 'paused',
    });
    const resumed = aRun(paused.steps, { status: 'running' });
    expect(renderProgress(before, paused)).toEqual(['⏸ run paused', '  ↷ budget-approval  skipped (condition)']);
    expect(renderProgress(paused, resumed)).toEqual(['▶ run resumed']);
  });

  it('names the child run a workflow step waits for, and how to follow it', () => {
    const run = aRun([
      aStep('provision', { type: 'workflow', status: 'waiting_child', attempt: 1, childRunId: 'c-1' }),
    ]);
    expect(renderProgress(null, run)).toEqual(['  ▶ provision  waiting for child run c-1 — orchestron status c-1']);
  });

  it('prints nothing when nothing changed', () => {
    const run = aRun([aStep('a', { status: 'running', attempt: 1 })]);
    expect(renderProgress(run, run)).toEqual([]);
  });

  it('adds ANSI colour to the symbol only when asked', () => {
    const run = aRun([aStep('a', { status: 'completed', attempt: 1 })]);
    expect(renderProgress(null, run, { colour: true })).toEqual(['  \u001b[32m✓\u001b[39m a  completed (attempt 1)']);
  });
});

describe('summaryLine', () => {
  it('counts steps by status for a completed run', () => {
    const run = aRun(
      [aStep('a', { status: 'completed' }), aStep('b', { status: 'completed' }), aStep('c', { status: 'skipped' })],
      { status: 'completed' },
    );
    expect(summaryLine(run)).toBe('✓ run run-1 completed in 1.5s — 3 steps: 2 completed, 1 skipped');
  });

  it('names the failing step, code and message', () => {
    const run = aRun([], {
      status: 'failed',
      failure: { stepId: 'send-welcome', error: { code: 'MAIL.REJECTED', message: 'bad address' } },
    });
    expect(summaryLine(run)).toBe('✗ run run-1 failed in 1.5s — send-welcome: MAIL.REJECTED bad address');
  });

  it('gives the attention message when an operator is needed', () => {
    const run = aRun([], {
      status: 'needs_operator',
      attention: { code: 'STEP.RETRIES_EXHAUSTED', message: 'send-welcome failed 5 times', stepId: 'send-welcome' },
    });
    expect(summaryLine(run)).toBe('! run run-1 needs an operator: STEP.RETRIES_EXHAUSTED: send-welcome failed 5 times');
  });
});

describe('renderProgress: several changes in one poll', () => {
  it('prints compensation after the failure that caused it, newest step first', () => {
    // Given a poll that saw a step fail and two earlier steps compensated at once
    const before = aRun([
      aStep('a', { status: 'completed', attempt: 1 }),
      aStep('b', { status: 'completed', attempt: 1 }),
      aStep('c', { status: 'running', attempt: 1 }),
    ]);
    const undone = { status: 'completed' as const, attempt: 1, error: null };
    const after = aRun(
      [
        aStep('a', { status: 'completed', attempt: 1, compensation: undone }),
        aStep('b', { status: 'completed', attempt: 1, compensation: undone }),
        aStep('c', { status: 'failed', attempt: 1, error: { code: 'X.TERMINAL', message: 'no', retryable: false } }),
      ],
      { status: 'compensated' },
    );
    // Then the failure comes first, then b's compensation, then a's
    expect(renderProgress(before, after)).toEqual([
      '  ✗ c  failed after attempt 1: X.TERMINAL no',
      '  ↩ b  compensation completed',
      '  ↩ a  compensation completed',
    ]);
  });

  it('leaves out the attempt for a step that failed before it was dispatched (a governance denial)', () => {
    const after = aRun([
      aStep('a', {
        status: 'failed',
        attempt: 0,
        error: { code: 'GOVERNANCE.DENIED', message: 'denied', retryable: false },
      }),
    ]);
    expect(renderProgress(null, after)).toEqual(['  ✗ a  failed: GOVERNANCE.DENIED denied']);
  });
});

describe('heldText', () => {
  it('says why flow control holds an attempt, for each reason', () => {
    const since = '2026-01-01T00:00:00.000Z';
    expect(heldText({ reason: 'breaker_open', worker: 'pay', since })).toMatch(/circuit breaker is open/);
    expect(heldText({ reason: 'concurrency_limit', worker: 'pay', since })).toMatch(/concurrency limit/);
    expect(heldText({ reason: 'rate_limit', worker: 'pay', since })).toBe(
      'worker pay is at its rate limit; it waits for its turn',
    );
    expect(heldText({ reason: 'lock', worker: 'pay', since, locks: ['account-7'] })).toBe(
      'waits for lock "account-7" (another step holds one; orchestron locks shows who)',
    );
    expect(heldText({ reason: 'quota_exceeded', worker: 'pay', since })).toBe(
      'held by flow control on worker pay: quota exceeded',
    );
  });
});
