/** What a compensating run does next on its own: drain, then undo completed steps in reverse dependency order. */
import { renderTemplate } from '@orchestron/definitions';
import { compensateChild, isUndoable } from './child-runs.ts';
import { context, dispatchEvents, expressionError } from './event-builders.ts';
import { renderLocks } from './step-locks.ts';
import type { StepError, WorkflowEvent } from './messages.ts';
import { downstreamOf } from './policies.ts';
import { stepAt } from './state.ts';
import type { RunData } from './state.ts';

export function reactCompensating(s: RunData, now: number): WorkflowEvent[] {
  // Drain first: an attempt still out may yet complete, and then it must be undone too.
  if (s.definition.order.some((id) => s.steps[id]?.status === 'running')) return [];
  const toUndo = s.definition.order.filter((id) => s.steps[id]?.status === 'completed' && isUndoable(s, id));
  const failed = toUndo.find((id) => s.compensations[id]?.status === 'failed');
  if (failed !== undefined) {
    const error = s.compensations[failed]?.error;
    return [
      {
        type: 'RunNeedsOperator',
        data: {
          code: 'COMPENSATION.FAILED',
          message: `compensation of "${failed}" failed: ${error?.message ?? 'unknown error'}`,
          stepId: failed,
          at: now,
        },
      },
    ];
  }
  for (const id of [...toUndo].reverse()) {
    const c = s.compensations[id];
    if (c?.status === 'retry_scheduled' && c.retryDue) return dispatchCompensation(s, id, c.attempt + 1, now);
    if (c !== undefined && c.status !== 'reset') continue;
    const downstream = downstreamOf(s.definition, id);
    const blocked = toUndo.some((other) => downstream.has(other) && !isSettled(s.compensations[other]?.status));
    // After a re-drive the attempt numbers go on, so the new attempt's idempotency key is not the old one's.
    if (!blocked) return dispatchCompensation(s, id, (c?.attempt ?? 0) + 1, now);
  }
  if (!toUndo.every((id) => isSettled(s.compensations[id]?.status))) return [];
  if (toUndo.length > 0)
    return [
      {
        type: 'RunCompensated',
        data: { compensated: toUndo.filter((id) => s.compensations[id]?.status === 'completed'), at: now },
      },
    ];
  const culprit = s.definition.order.find((id) => s.steps[id]?.status === 'failed');
  const error: StepError = (culprit ? stepAt(s, culprit, 'failed')?.error : null) ?? {
    code: 'RUN.FAILED',
    message: 'the run failed and had nothing to compensate',
    retryable: false,
  };
  return [{ type: 'RunFailed', data: { stepId: culprit ?? null, error, at: now } }];
}

function dispatchCompensation(s: RunData, stepId: string, attempt: number, now: number): WorkflowEvent[] {
  if (s.definition.steps[stepId]?.type === 'workflow') return compensateChild(s, stepId, attempt, now);
  const comp = s.definition.steps[stepId]?.compensate;
  // Only a completed step is undone.
  const st = stepAt(s, stepId, 'completed');
  if (!comp || !st) return [];
  const override = s.compensations[stepId]?.inputOverride;
  let input: unknown;
  try {
    input =
      override !== undefined
        ? override
        : comp.input === null
          ? { input: st.input, output: st.output }
          : renderTemplate(comp.input, context(s));
  } catch (error) {
    return [
      {
        type: 'CompensationFailed',
        data: { stepId, attempt, error: expressionError(error, 'compensate.input'), at: now },
      },
    ];
  }
  const locks = renderLocks(s, stepId);
  if (!locks.ok) return [{ type: 'CompensationFailed', data: { stepId, attempt, error: locks.error, at: now } }];
  const { worker, action, timeoutMs } = comp;
  return dispatchEvents(s, stepId, 'compensate', attempt, worker, action, input, timeoutMs, now, locks.value);
}

function isSettled(status: string | undefined): boolean {
  return status === 'completed' || status === 'skipped';
}
