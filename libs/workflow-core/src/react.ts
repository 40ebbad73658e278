import { formatDuration } from '@orchestron/definitions';
import { activate, dispatch } from './activate.ts';
import { StepErrorCodes } from './errors.ts';
import { assertNever } from './evolve.ts';
import type { WorkflowEvent } from './messages.ts';
import { governanceTimeoutOf, isFatalFailure } from './policies.ts';
import { reactCompensating } from './react-compensating.ts';
import { isTerminalStep, stepAt } from './state.ts';
import type { RunData } from './state.ts';
import type { StandingLookup } from './standing.ts';
import { BUDGET_EXCEEDED, overBudget } from './usage.ts';

/**
 * What the run does next on its own, given its state: the next decision only. `decide` folds it in and asks
 * again until nothing is left, so each decision sees the effects of the one before.
 */
export function react(s: RunData, now: number, standing?: StandingLookup): WorkflowEvent[] {
  switch (s.status) {
    case 'running':
      return reactRunning(s, now, standing);
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

function reactRunning(s: RunData, now: number, standing: StandingLookup | undefined): WorkflowEvent[] {
  // Before anything is dispatched: past its budget the run spends nothing more until an operator raises it.
  const over = overBudget(s.usage, s.budget);
  if (over !== null)
    return [
      {
        type: 'RunNeedsOperator',
        data: { code: BUDGET_EXCEEDED, message: `${over}: raise the budget or cancel the run`, stepId: null, at: now },
      },
    ];
  const { unevaluable, fatal, overdue, unruled, allTerminal } = attention(s);
  // Before onFailure: a request governance could not evaluate fails the same way when asked again, and an operator can fix it.
  if (unevaluable !== undefined) {
    const message = `governance could not evaluate the request for step "${unevaluable}", so it did not run: retry it with an edited input, skip it with an output, or cancel the run`;
    return [
      {
        type: 'RunNeedsOperator',
        data: { code: StepErrorCodes.governanceUnevaluable, message, stepId: unevaluable, at: now },
      },
    ];
  }
  if (fatal !== undefined) return onFatalFailure(s, fatal, now);
  // A timed-out approval stays escalated until someone decides it, whatever else an operator did meanwhile.
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
      const events = activate(s, def, st, now, standing);
      if (events.length > 0) return events;
    }
  }
  if (allTerminal) return [{ type: 'RunCompleted', data: { at: now } }];
  return [];
}

/** What a running run attends to before it moves on, each the first step in order: one pass over the steps. */
interface Attention {
  readonly unevaluable: string | undefined;
  readonly fatal: string | undefined;
  readonly overdue: string | undefined;
  readonly unruled: string | undefined;
  readonly allTerminal: boolean;
}

function attention(s: RunData): Attention {
  let unevaluable: string | undefined;
  let fatal: string | undefined;
  let overdue: string | undefined;
  let unruled: string | undefined;
  let allTerminal = true;
  for (const id of s.definition.order) {
    const st = s.steps[id];
    if (!isTerminalStep(st?.status ?? 'pending')) allTerminal = false;
    if (st?.status === 'failed') {
      if (unevaluable === undefined && st.error.code === StepErrorCodes.governanceUnevaluable) unevaluable = id;
      if (fatal === undefined && isFatalFailure(s.definition, id)) fatal = id;
    } else if (st?.status === 'waiting_approval') {
      if (overdue === undefined && isOverdueApproval(s, id)) overdue = id;
    } else if (st?.status === 'waiting_governance' && st.escalated) unruled ??= id;
  }
  return { unevaluable, fatal, overdue, unruled, allTerminal };
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
