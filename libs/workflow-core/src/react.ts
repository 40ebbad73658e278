import {
  DEFAULT_GOVERNANCE_TIMEOUT_MS,
  ExpressionBudgetError,
  ExpressionError,
  evaluateExpression,
  formatDuration,
  renderTemplate,
} from '@orchestron/definitions';
import type { CompiledStep, ExpressionContext } from '@orchestron/definitions';
import { inputDigest } from './digest.ts';
import { StepErrorCodes } from './errors.ts';
import { assertNever } from './evolve.ts';
import type { Phase, StepError, Timer, WorkflowEvent } from './messages.ts';
import { downstreamOf, evaluateJoin, isFatalFailure } from './policies.ts';
import { isGoverned, isTerminalStep, outputOf, stepAt } from './state.ts';
import type { PendingStep, RetryScheduledStep, RunData } from './state.ts';

/** A step the reactor may send an attempt of: one activated now, or one whose retry is due. */
type Undispatched = PendingStep | RetryScheduledStep;

/**
 * What the run does next on its own, given its state: the next decision only. `decide` folds it in and asks
 * again until nothing is left, so each decision sees the effects of the one before.
 */
export function react(s: RunData, now: number): WorkflowEvent[] {
  switch (s.status) {
    case 'running':
      return reactRunning(s, now);
    case 'compensating':
      return reactCompensating(s, now);
    // Paused and waiting for an operator: nothing happens on its own. Terminal: nothing happens at all.
    case 'paused':
    case 'needs_operator':
    case 'completed':
    case 'failed':
    case 'compensated':
    case 'cancelled':
      return [];
    default:
      return assertNever(s.status);
  }
}

function reactRunning(s: RunData, now: number): WorkflowEvent[] {
  // Before onFailure: a request governance could not evaluate fails the same way when asked again, and an operator can fix it.
  const unevaluable = s.definition.order.find(
    (id) => s.steps[id]?.status === 'failed' && s.steps[id]?.error?.code === StepErrorCodes.governanceUnevaluable,
  );
  if (unevaluable !== undefined) {
    const message = `governance could not evaluate the request for step "${unevaluable}", so it did not run: retry it with an edited input, skip it with an output, or cancel the run`;
    return [
      {
        type: 'RunNeedsOperator',
        data: { code: StepErrorCodes.governanceUnevaluable, message, stepId: unevaluable, at: now },
      },
    ];
  }
  const fatal = s.definition.order.find((id) => s.steps[id]?.status === 'failed' && isFatalFailure(s.definition, id));
  if (fatal !== undefined) return onFatalFailure(s, fatal, now);
  // A timed-out approval stays escalated until someone decides it, whatever else an operator did meanwhile.
  const overdue = s.definition.order.find((id) => isOverdueApproval(s, id));
  if (overdue !== undefined)
    return [
      {
        type: 'RunNeedsOperator',
        data: {
          code: StepErrorCodes.approvalTimedOut,
          message: `approval "${overdue}" timed out`,
          stepId: overdue,
          at: now,
        },
      },
    ];
  // Likewise a side effect governance has not ruled on in time: it keeps waiting (fail closed), and someone must know.
  const unruled = s.definition.order.find(
    (id) => s.steps[id]?.status === 'waiting_governance' && s.steps[id]?.escalated,
  );
  if (unruled !== undefined) {
    const message = `governance has not ruled on step "${unruled}" within its ${formatDuration(governanceTimeoutOf(s, unruled))} deadline; the step waits and nothing is dispatched`;
    return [
      {
        type: 'RunNeedsOperator',
        data: { code: StepErrorCodes.governanceUnavailable, message, stepId: unruled, at: now },
      },
    ];
  }
  for (const id of s.definition.order) {
    const st = s.steps[id];
    const def = s.definition.steps[id];
    if (!st || !def) continue;
    if (st.status === 'retry_scheduled' && st.retryDue) return dispatch(s, def, st, now);
    if (st.status === 'pending') {
      const events = activate(s, def, st, now);
      if (events.length > 0) return events;
    }
  }
  if (s.definition.order.every((id) => isTerminalStep(s.steps[id]?.status ?? 'pending')))
    return [{ type: 'RunCompleted', data: { at: now } }];
  return [];
}

function onFatalFailure(s: RunData, stepId: string, now: number): WorkflowEvent[] {
  const error = stepAt(s, stepId, 'failed')?.error ?? { code: 'STEP.FAILED', message: 'step failed', retryable: false };
  switch (s.definition.onFailure) {
    case 'compensate':
      return [
        {
          type: 'CompensationStarted',
          data: { cause: `step "${stepId}" failed: ${error.code}: ${error.message}`, by: null, at: now },
        },
      ];
    case 'fail':
      return [{ type: 'RunFailed', data: { stepId, error, at: now } }];
    case 'escalate':
      return [
        {
          type: 'RunNeedsOperator',
          data: { code: error.code, message: `step "${stepId}" failed: ${error.message}`, stepId, at: now },
        },
      ];
    default:
      return assertNever(s.definition.onFailure);
  }
}

/** A pending step whose join is decided: skip it, fail it, gate it, check it with governance, or dispatch it. */
function activate(s: RunData, def: CompiledStep, st: PendingStep, now: number): WorkflowEvent[] {
  const verdict = evaluateJoin(def, s);
  if (verdict === 'wait') return [];
  if (verdict === 'unsatisfiable_failed') {
    return [
      failStep(
        def.id,
        st.attempt,
        {
          code: StepErrorCodes.joinUnsatisfied,
          message: `join ${def.join.kind} can no longer be satisfied by ${def.needs.join(', ')}`,
          retryable: false,
        },
        now,
      ),
    ];
  }
  if (verdict === 'unsatisfiable_skipped') {
    return [
      {
        type: 'StepSkipped',
        data: { stepId: def.id, kind: 'upstream', output: null, by: null, reason: 'its needs were skipped', at: now },
      },
    ];
  }
  if (def.when !== null && st.governance === null) {
    let taken: unknown;
    try {
      taken = evaluateExpression(def.when, context(s));
    } catch (error) {
      return [failStep(def.id, st.attempt, expressionError(error, 'when'), now)];
    }
    if (taken !== true)
      return [
        {
          type: 'StepSkipped',
          data: {
            stepId: def.id,
            kind: 'condition',
            output: null,
            by: null,
            reason: `when evaluated to ${JSON.stringify(taken)}`,
            at: now,
          },
        },
      ];
  }
  if (def.type === 'approval') {
    const events: WorkflowEvent[] = [
      {
        type: 'ApprovalRequested',
        data: {
          stepId: def.id,
          cause: 'approval_step',
          assignees: def.assignees,
          message: `approval "${def.id}" is waiting`,
          at: now,
        },
      },
    ];
    if (def.timeoutMs !== null)
      events.push(
        schedule({
          id: `${def.id}:approval:${st.attemptBase}`,
          kind: 'approval_timeout',
          stepId: def.id,
          attempt: st.attemptBase,
          phase: 'execute',
          dueAt: now + def.timeoutMs,
        }),
      );
    return events;
  }
  const allowed = st.governance?.outcome === 'allow' || st.governance?.outcome === 'approved';
  if (isGoverned(s, def.id) && !allowed) {
    const input = resolveInput(s, def, st);
    if (!input.ok) return [failStep(def.id, st.attempt, input.error, now)];
    const dueAt = now + governanceTimeoutOf(s, def.id);
    const attempt = st.attempt + 1;
    return [
      {
        type: 'GovernanceCheckRequested',
        data: {
          stepId: def.id,
          worker: def.worker ?? '',
          action: def.action,
          input: input.value,
          inputDigest: inputDigest(input.value),
          at: now,
        },
      },
      // The due time is in the id: a late firing of an earlier request's timer cannot end this request's wait early.
      schedule({
        id: timerId('execute', def.id, attempt, `governance@${dueAt}`),
        kind: 'governance_timeout',
        stepId: def.id,
        attempt,
        phase: 'execute',
        dueAt,
      }),
    ];
  }
  return dispatch(s, def, st, now);
}

function dispatch(s: RunData, def: CompiledStep, st: Undispatched, now: number): WorkflowEvent[] {
  const input = resolveInput(s, def, st);
  if (!input.ok) return [failStep(def.id, st.attempt, input.error, now)];
  const attempt = st.attempt + 1;
  return dispatchEvents(s, def.id, 'execute', attempt, def.worker ?? '', def.action, input.value, def.timeoutMs, now);
}

function reactCompensating(s: RunData, now: number): WorkflowEvent[] {
  // Drain first: an attempt still out may yet complete, and then it must be undone too.
  if (s.definition.order.some((id) => s.steps[id]?.status === 'running')) return [];
  const toUndo = s.definition.order.filter(
    (id) => s.steps[id]?.status === 'completed' && s.definition.steps[id]?.compensate,
  );
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
    const comp = s.definition.steps[id]?.compensate;
    if (!comp) continue;
    if (c?.status === 'retry_scheduled' && c.retryDue) return dispatchCompensation(s, id, c.attempt + 1, now);
    if (c !== undefined) continue;
    const downstream = downstreamOf(s.definition, id);
    const blocked = toUndo.some((other) => downstream.has(other) && !isSettled(s.compensations[other]?.status));
    if (!blocked) return dispatchCompensation(s, id, 1, now);
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
  return dispatchEvents(s, stepId, 'compensate', attempt, comp.worker, comp.action, input, comp.timeoutMs, now);
}

function dispatchEvents(
  s: RunData,
  stepId: string,
  phase: Phase,
  attempt: number,
  worker: string,
  action: string | null,
  input: unknown,
  timeoutMs: number | null,
  now: number,
): WorkflowEvent[] {
  const idempotencyKey = idempotencyKeyOf(s.runId, stepId, phase, attempt);
  const timeoutAt = timeoutMs === null ? null : now + timeoutMs;
  const events: WorkflowEvent[] = [
    {
      type: 'StepDispatched',
      data: { stepId, attempt, phase, worker, action, input, idempotencyKey, timeoutAt, at: now },
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

/** Runs pinned to a definition compiled before `governanceTimeout` existed get the default. */
function governanceTimeoutOf(s: RunData, stepId: string): number {
  return s.definition.steps[stepId]?.governanceTimeoutMs ?? DEFAULT_GOVERNANCE_TIMEOUT_MS;
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

type Resolved = { ok: true; value: unknown } | { ok: false; error: StepError };

/** Retries reuse the input of the attempt before; an operator's edited input wins over both. */
function resolveInput(s: RunData, def: CompiledStep, st: Undispatched): Resolved {
  if (st.inputOverride !== undefined) return { ok: true, value: st.inputOverride };
  if (st.attempt > 0) return { ok: true, value: st.input };
  if (def.input === null) return { ok: true, value: s.input };
  try {
    return { ok: true, value: renderTemplate(def.input, context(s)) };
  } catch (error) {
    return { ok: false, error: expressionError(error, 'input') };
  }
}

export function context(s: RunData): ExpressionContext {
  const steps: Record<string, { status: string; output: unknown }> = {};
  for (const [id, st] of Object.entries(s.steps)) steps[id] = { status: st.status, output: outputOf(st) };
  return { input: s.input, steps, run: { id: s.runId, definitionId: s.definition.id } };
}

function expressionError(error: unknown, field: string): StepError {
  const message = error instanceof ExpressionError || error instanceof Error ? error.message : String(error);
  const code =
    error instanceof ExpressionBudgetError ? StepErrorCodes.expressionBudgetExceeded : StepErrorCodes.expression;
  return { code, message: `${field}: ${message}`, retryable: false };
}

function isSettled(status: string | undefined): boolean {
  return status === 'completed' || status === 'skipped';
}

/** Waiting on an approval step whose escalating deadline has already fired. */
function isOverdueApproval(s: RunData, id: string): boolean {
  const st = s.steps[id];
  const def = s.definition.steps[id];
  if (
    st?.status !== 'waiting_approval' ||
    st.approvalCause !== 'approval_step' ||
    def?.timeoutMs === null ||
    def?.onTimeout !== 'escalate'
  )
    return false;
  return !Object.values(s.timers).some((t) => t.kind === 'approval_timeout' && t.stepId === id);
}
