/** A pending step's way out of pending, and the dispatch of an attempt (a first one, or a retry that is due). */
import { evaluateExpression, renderTemplate } from '@orchestron/definitions';
import type { CompiledStep } from '@orchestron/definitions';
import { inputDigest } from './digest.ts';
import { StepErrorCodes } from './errors.ts';
import { context, dispatchEvents, expressionError, failStep, schedule } from './event-builders.ts';
import type { StepError, WorkflowEvent } from './messages.ts';
import { startWaiting } from './event-waits.ts';
import { startChild } from './child-runs.ts';
import { evaluateJoin, governanceTimeoutOf } from './policies.ts';
import { renderLocks } from './step-locks.ts';
import { standingDispatch } from './standing.ts';
import type { StandingLookup } from './standing.ts';
import { isGoverned } from './state.ts';
import type { PendingStep, RetryScheduledStep, RunData } from './state.ts';

/** A step the reactor may send an attempt of: one activated now, or one whose retry is due. */
type Undispatched = PendingStep | RetryScheduledStep;

/** A pending step whose join is decided: skip it, fail it, gate it, check it with governance, or dispatch it. */
export function activate(
  s: RunData,
  def: CompiledStep,
  st: PendingStep,
  now: number,
  standing?: StandingLookup,
): WorkflowEvent[] {
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
  if (def.type === 'event') return startWaiting(s, def, st, now);
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
    const ruled = standingDispatch(s, def.id, st.attempt + 1, input.value, now, standing, () =>
      dispatchInput(s, def, st, input.value, now),
    );
    if (ruled !== null) return ruled;
    // Folding the request arms governance's deadline (timerArmedBy): no TimerScheduled of its own (ADR 39).
    return [
      {
        type: 'GovernanceCheckRequested',
        data: {
          stepId: def.id,
          worker: def.worker ?? '',
          action: def.action,
          input: input.value,
          inputDigest: inputDigest(input.value),
          attempt: st.attempt + 1,
          timeoutAt: now + governanceTimeoutOf(s, def.id),
          at: now,
        },
      },
    ];
  }
  return dispatch(s, def, st, now);
}

export function dispatch(s: RunData, def: CompiledStep, st: Undispatched, now: number): WorkflowEvent[] {
  const input = resolveInput(s, def, st);
  if (!input.ok) return [failStep(def.id, st.attempt, input.error, now)];
  return dispatchInput(s, def, st, input.value, now);
}

/** The attempt sent with `input`, already resolved (a standing ruling's check resolved it: not rendered twice). */
function dispatchInput(s: RunData, def: CompiledStep, st: Undispatched, input: unknown, now: number): WorkflowEvent[] {
  if (def.type === 'workflow') return startChild(s, def, st, input, now);
  const locks = renderLocks(s, def.id);
  if (!locks.ok) return [failStep(def.id, st.attempt, locks.error, now)];
  const attempt = st.attempt + 1;
  const { worker, action, timeoutMs } = def;
  return dispatchEvents(s, def.id, 'execute', attempt, worker ?? '', action, input, timeoutMs, now, locks.value);
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
