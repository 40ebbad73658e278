/** A held attempt the lock table failed to break a cycle of waits (see step-locks.ts and lock-table.ts). */
import { quoteForMessage } from '@orchestron/definitions';
import { StepErrorCodes } from './errors.ts';
import type { Command, StepError, WorkflowEvent } from './messages.ts';
import { stepAt } from './state.ts';
import type { RunData } from './state.ts';
import { checkReport, ignore } from './unapplied.ts';
import type { Unapplied } from './unapplied.ts';
import { attemptFailed } from './worker-reports.ts';

type FailLockWaitData = Extract<Command, { type: 'FailLockWait' }>['data'];

/** The lock table failed this attempt to break a cycle: it fails without retries (the same wait would come back). */
export function failLockWait(s: RunData, data: FailLockWaitData, now: number): WorkflowEvent[] | Unapplied {
  const { stepId, attempt, phase, message, cycle } = data;
  const off = checkReport(s, stepId, attempt, phase);
  if (off !== null) return off;
  const held = phase === 'execute' ? stepAt(s, stepId, 'running')?.held : s.compensations[stepId]?.held;
  if (held?.reason !== 'lock')
    return ignore('hold_moot', `attempt ${attempt} of ${quoteForMessage(stepId)} does not wait for a lock`);
  const error: StepError = { code: StepErrorCodes.lockDeadlock, message, retryable: false, details: { cycle } };
  return attemptFailed(s, stepId, attempt, phase, error, now);
}
