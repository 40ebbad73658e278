// The commands waiting for one run, decided one after the other on the state each leaves, for one append.
import { decide, fold } from '@orchestron/workflow-core';
import type {
  Command,
  Effect,
  RunData,
  RunState,
  StandingLookup,
  Unapplied,
  WorkflowEvent,
} from '@orchestron/workflow-core';

/** An event with the command it came from (its metadata says which). */
export interface Decided {
  readonly event: WorkflowEvent;
  readonly command: Command;
}

/**
 * What happens between a decision and its append: flow control may hold a send, adding the hold's events to the
 * same append. `commit` runs once the append succeeded, `rollback` when it did not.
 */
export interface AppendPlan {
  readonly extra: readonly Decided[];
  readonly effects: readonly Effect[];
  commit(): void;
  rollback(): void;
}

export type PlanAppend = (runId: string, command: Command, after: RunData, effects: readonly Effect[]) => AppendPlan;

export interface Applied {
  readonly state: RunState;
  readonly events: readonly WorkflowEvent[];
  readonly effects: readonly Effect[];
  /** Why the command decided nothing (set exactly when `events` is empty). */
  readonly unapplied: Unapplied | null;
}

/** A command waiting for its run's queue, and how to answer its caller. */
export interface Waiting {
  readonly command: Command;
  readonly metadata: Readonly<Record<string, string>>;
  readonly carryOut: (state: RunData, effects: readonly Effect[]) => Promise<void>;
  readonly resolve: (applied: Applied) => void;
  readonly reject: (error: unknown) => void;
}

/** What one command of a batch came to: an error, nothing to record, or events (with what it leaves). */
export type Outcome =
  | { readonly kind: 'threw'; readonly item: Waiting; readonly error: unknown }
  | { readonly kind: 'unapplied'; readonly item: Waiting; readonly applied: Applied }
  | {
      readonly kind: 'decided';
      readonly item: Waiting;
      readonly before: RunState;
      readonly plan: AppendPlan;
      readonly applied: Applied & { readonly state: RunData };
    };

export interface BatchDecision {
  readonly outcomes: readonly Outcome[];
  /** Every event to append, in order, each with the command it came from and that command's caller metadata. */
  readonly records: readonly { readonly decided: Decided; readonly metadata: Readonly<Record<string, string>> }[];
  readonly state: RunState;
}

export interface BatchOptions {
  readonly plan: PlanAppend;
  readonly standing?: ((now: number) => StandingLookup | undefined) | undefined;
}

/**
 * Decides each waiting command on the state the ones before it left, as the run's queue would have one by one. A
 * command whose decision throws (an operator command that does not apply) leaves the state as it was, and only its
 * own caller hears of it. Each decision's plan (locks held, flow control) is made as it is decided.
 */
export function decideBatch(
  runId: string,
  state: RunState,
  batch: readonly Waiting[],
  options: BatchOptions,
): BatchDecision {
  const outcomes: Outcome[] = [];
  const records: { decided: Decided; metadata: Readonly<Record<string, string>> }[] = [];
  let current = state;
  for (const item of batch) {
    const { outcome, decided } = decideOne(runId, current, item, options);
    outcomes.push(outcome);
    records.push(...decided.map((d) => ({ decided: d, metadata: item.metadata })));
    if (outcome.kind === 'decided') current = outcome.applied.state;
  }
  return { outcomes, records, state: current };
}

/** One command of a batch, on the state the ones before it left: its outcome, and its events with their commands. */
function decideOne(
  runId: string,
  current: RunState,
  item: Waiting,
  options: BatchOptions,
): { outcome: Outcome; decided: readonly Decided[] } {
  const { command } = item;
  const standing = options.standing?.(command.metadata.now);
  let decision: ReturnType<typeof decide>;
  try {
    decision = decide(command, current, standing === undefined ? {} : { standing });
  } catch (error) {
    return { outcome: { kind: 'threw', item, error }, decided: [] };
  }
  if (decision.events.length === 0) {
    const applied = { state: current, events: [], effects: [], unapplied: decision.unapplied };
    return { outcome: { kind: 'unapplied', item, applied }, decided: [] };
  }
  const after = decision.state as RunData;
  const plan = options.plan(runId, command, after, decision.effects);
  const decided: Decided[] = [...decision.events.map((event) => ({ event, command })), ...plan.extra];
  const next =
    plan.extra.length === 0
      ? after
      : (fold(
          plan.extra.map((d) => d.event),
          after,
        ) as RunData);
  const events: WorkflowEvent[] = decided.map((d) => d.event);
  const applied = { state: next, events, effects: plan.effects, unapplied: null };
  return { outcome: { kind: 'decided', item, before: current, plan, applied }, decided };
}

/** Undoes the plans of a batch whose append failed, the last made first. */
export function rollBack(outcomes: readonly Outcome[]): void {
  for (const outcome of [...outcomes].reverse()) if (outcome.kind === 'decided') outcome.plan.rollback();
}
