/** The events and values the reactor and the command handlers build alike: attempts sent, timers, failures. */
import { ExpressionBudgetError, ExpressionError } from '@orchestron/definitions';
import type { ExpressionContext } from '@orchestron/definitions';
import { StepErrorCodes } from './errors.ts';
import type { LockClaim, Phase, StepError, Timer, WorkflowEvent } from './messages.ts';
import { outputOf } from './state.ts';
import type { RunData } from './state.ts';

export function dispatchEvents(
  s: RunData,
  stepId: string,
  phase: Phase,
  attempt: number,
  worker: string,
  action: string | null,
  input: unknown,
  timeoutMs: number | null,
  now: number,
  locks: readonly LockClaim[] = [],
): WorkflowEvent[] {
  const idempotencyKey = idempotencyKeyOf(s.runId, stepId, phase, attempt);
  const timeoutAt = timeoutMs === null ? null : now + timeoutMs;
  const taken = locks.length > 0 ? { locks } : {};
  // Folding it arms the attempt's timeout (timerArmedBy): no TimerScheduled of its own.
  return [
    {
      type: 'StepDispatched',
      data: { stepId, attempt, phase, worker, action, input, idempotencyKey, timeoutAt, ...taken, at: now },
    },
  ];
}

export function idempotencyKeyOf(runId: string, stepId: string, phase: Phase, attempt: number): string {
  return phase === 'execute' ? `${runId}/${stepId}/${attempt}` : `${runId}/${stepId}/compensate/${attempt}`;
}

export function timerId(phase: Phase, stepId: string, attempt: number, what: string): string {
  return `${phase === 'execute' ? '' : 'compensate:'}${stepId}:${attempt}:${what}`;
}

export function schedule(timer: Timer): WorkflowEvent {
  return { type: 'TimerScheduled', data: { timer } };
}

/**
 * The timer an event arms when it is folded. The events that set a due time arm its timer themselves: an attempt
 * sent (its timeout), an attempt released from a hold (a fresh timeout, the due time in the id: a late firing of the
 * timer the hold disarmed cannot time it out), a retry scheduled (the next attempt's retry) and a governance check
 * requested with its deadline (ADR 39). Every other timer has a TimerScheduled of its own. Histories recorded before
 * ADR 38 (39 for governance) also hold a TimerScheduled of the same timer right after each of those: it sets the same
 * id to the same timer again, and changes nothing.
 */
export function timerArmedBy(event: WorkflowEvent): Timer | null {
  switch (event.type) {
    case 'TimerScheduled':
      return event.data.timer;
    case 'StepDispatched':
    case 'StepReleased': {
      const { stepId, attempt, phase, timeoutAt } = event.data;
      if (timeoutAt === null) return null;
      const what = event.type === 'StepDispatched' ? 'timeout' : `timeout@${timeoutAt}`;
      return {
        id: timerId(phase, stepId, attempt, what),
        kind: 'attempt_timeout',
        stepId,
        attempt,
        phase,
        dueAt: timeoutAt,
      };
    }
    case 'StepRetryScheduled': {
      const { stepId, phase, nextAttempt, retryAt } = event.data;
      return {
        id: timerId(phase, stepId, nextAttempt, 'retry'),
        kind: 'retry',
        stepId,
        attempt: nextAttempt,
        phase,
        dueAt: retryAt,
      };
    }
    case 'GovernanceCheckRequested': {
      const { stepId, attempt, timeoutAt } = event.data;
      if (attempt === undefined || timeoutAt === undefined) return null;
      // The due time is in the id: a late firing of an earlier request's timer cannot end this request's wait early.
      const id = timerId('execute', stepId, attempt, `governance@${timeoutAt}`);
      return { id, kind: 'governance_timeout', stepId, attempt, phase: 'execute', dueAt: timeoutAt };
    }
    default:
      return null;
  }
}

export function failStep(stepId: string, attempt: number, error: StepError, now: number): WorkflowEvent {
  return { type: 'StepFailed', data: { stepId, attempt, error, at: now } };
}

export function context(s: RunData): ExpressionContext {
  const steps: Record<string, { status: string; output: unknown }> = {};
  for (const [id, st] of Object.entries(s.steps)) steps[id] = { status: st.status, output: outputOf(st) };
  return { input: s.input, steps, run: { id: s.runId, definitionId: s.definition.id } };
}

export function expressionError(error: unknown, field: string): StepError {
  const message = error instanceof ExpressionError || error instanceof Error ? error.message : String(error);
  const code =
    error instanceof ExpressionBudgetError ? StepErrorCodes.expressionBudgetExceeded : StepErrorCodes.expression;
  return { code, message: `${field}: ${message}`, retryable: false };
}
