/**
 * What the agents of a run spend (tokens and cost, reported by workers with their outcomes), and the budget that
 * caps it. Usage is counted from the recorded events alone, so a report the decider ignores (a duplicate, a late
 * attempt) is never counted, and a replay counts the same.
 */
import type { Budget } from '@orchestron/definitions';
import { DomainError } from './errors.ts';
import type { Usage, WorkflowEvent } from './messages.ts';
import { isTerminalRun } from './state.ts';
import type { RunData, UsageTotals } from './state.ts';

export const NO_USAGE: UsageTotals = { inputTokens: 0, outputTokens: 0, cost: {} };

export const BUDGET_EXCEEDED = 'BUDGET.EXCEEDED';

/** The usage an event records, if any: completed and failed attempts, in either phase. */
export function usageOf(event: WorkflowEvent): { stepId: string; usage: Usage } | undefined {
  switch (event.type) {
    case 'StepCompleted':
    case 'StepAttemptFailed':
    case 'CompensationCompleted':
      return event.data.usage === undefined ? undefined : { stepId: event.data.stepId, usage: event.data.usage };
    default:
      return undefined;
  }
}

export function addUsage(totals: UsageTotals, usage: Usage): UsageTotals {
  const cost = usage.cost;
  return {
    inputTokens: totals.inputTokens + usage.inputTokens,
    outputTokens: totals.outputTokens + usage.outputTokens,
    cost: cost === undefined ? totals.cost : { ...totals.cost, [cost.currency]: sum(totals.cost[cost.currency], cost) },
  };
}

/** Rounded to a millionth, so that sums of decimal prices do not drift (0.1 + 0.2). */
const sum = (before: number | undefined, cost: { amount: number }): number =>
  Math.round(((before ?? 0) + cost.amount) * 1e6) / 1e6;

/** Folds an event's usage into the run's totals and its step's. */
export function countUsage(s: RunData, event: WorkflowEvent): RunData {
  const counted = usageOf(event);
  if (counted === undefined) return s;
  const { stepId, usage } = counted;
  return {
    ...s,
    usage: addUsage(s.usage, usage),
    stepUsage: { ...s.stepUsage, [stepId]: addUsage(s.stepUsage[stepId] ?? NO_USAGE, usage) },
  };
}

/**
 * Why the run is over its budget, or null when it is within it. Cost in another currency than the budget's counts
 * as over (fail closed): it cannot be compared, and letting it through would leave the cap open.
 */
export function overBudget(usage: UsageTotals, budget: Budget | null): string | null {
  if (budget === null) return null;
  const tokens = usage.inputTokens + usage.outputTokens;
  if (budget.tokens !== undefined && tokens > budget.tokens)
    return `the run used ${tokens} tokens, over its budget of ${budget.tokens}`;
  if (budget.cost === undefined) return null;
  const { amount, currency } = budget.cost;
  const other = Object.keys(usage.cost).find((c) => c !== currency);
  if (other !== undefined)
    return `a worker reported cost in ${other}, and the budget is in ${currency}: it cannot be compared`;
  const spent = usage.cost[currency] ?? 0;
  if (spent > amount) return `the run spent ${spent} ${currency}, over its budget of ${amount} ${currency}`;
  return null;
}

/** An operator's new budget: recorded with who and why; the run moves on if it waited only for the budget. */
export function raiseBudget(
  s: RunData,
  budget: Budget,
  by: string,
  reason: string | null,
  now: number,
): WorkflowEvent[] {
  if (isTerminalRun(s.status))
    throw new DomainError('RUN.ALREADY_TERMINAL', `the run is already ${s.status}`, { status: s.status });
  if (budget.tokens === undefined && budget.cost === undefined)
    throw new DomainError('COMMAND.INVALID', 'a budget needs "tokens", "cost" or both', { field: 'budget' });
  const still = overBudget(s.usage, budget);
  if (still !== null)
    throw new DomainError('COMMAND.INVALID', `the new budget is still exceeded: ${still}`, { field: 'budget' });
  const raised: WorkflowEvent = {
    type: 'BudgetRaised',
    data: { budget, previous: s.budget, by, reason, at: now },
  };
  const waitedForBudget = s.status === 'needs_operator' && s.attention?.code === BUDGET_EXCEEDED;
  return waitedForBudget ? [raised, { type: 'RunResumed', data: { by, reason, at: now } }] : [raised];
}
