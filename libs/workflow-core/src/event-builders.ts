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
  const events: WorkflowEvent[] = [
    {
      type: 'StepDispatched',
      data: { stepId, attempt, phase, worker, action, input, idempotencyKey, timeoutAt, ...taken, at: now },
    },
  ];
  if (timeoutAt !== null)
    events.push(
      schedule({
        id: timerId(phase, stepId, attempt, 'timeout'),
        kind: 'attempt_timeout',
        stepId,
        attempt,
        phase,
        dueAt: timeoutAt,
      }),
    );
  return events;
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
