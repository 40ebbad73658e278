import { ExpectedVersionConflictError } from '@orchestron/event-store';
import type { EventStore } from '@orchestron/event-store';
import { decide, fold, isStarted, isTerminalRun } from '@orchestron/workflow-core';
import type {
  Command,
  Effect,
  RunData,
  RunState,
  StandingLookup,
  Unapplied,
  WorkflowEvent,
} from '@orchestron/workflow-core';
import { describeError } from './ports.ts';
import type { Logger } from './ports.ts';
import { replay } from './replay.ts';
import { runStream } from './run-index.ts';
import type { RunSnapshots } from './run-snapshots.ts';

const CONFLICT_RETRIES = 8;
/** Runs that ended, remembered by their last revision so their own events coming back are not taken for news. */
const ENDED_REMEMBERED = 10_000;

interface Loaded {
  readonly state: RunState;
  readonly revision: number | null;
}

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

export interface RunCommandsOptions {
  readonly store: EventStore;
  readonly logger: Logger;
  /** Metadata on every event appended (which instance wrote it). */
  readonly metadata: Readonly<Record<string, string>>;
  readonly observer?: ((before: RunState, after: RunData, events: readonly WorkflowEvent[]) => void) | undefined;
  readonly plan: PlanAppend;
  /** The standing governance rulings a decision made at `now` may apply (ADR 41). */
  readonly standing?: ((now: number) => StandingLookup | undefined) | undefined;
  /** Loads long runs from a snapshot and the events after it, and snapshots them as they grow. */
  readonly snapshots?: RunSnapshots | undefined;
}

/**
 * Command handling for runs: one queue per run, a cache of live runs, load, decide, and append with the conflict
 * retry. The only writer of run streams. Effects are returned, not carried out: the caller does that.
 */
export class RunCommands {
  private readonly options: RunCommandsOptions;
  private readonly cache = new Map<string, Loaded & { state: RunData }>();
  private readonly ended = new Map<string, number>();
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(options: RunCommandsOptions) {
    this.options = options;
  }

  /** Work for one run, after everything queued for it before. */
  serial<T>(runId: string, work: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(runId) ?? Promise.resolve();
    const next = previous.then(work, work);
    const tail = next.catch(() => undefined);
    this.queues.set(runId, tail);
    void tail.then(() => {
      if (this.queues.get(runId) === tail) this.queues.delete(runId);
    });
    return next;
  }

  /** Everything queued so far, settled (stop waits for it). */
  async drained(): Promise<void> {
    await Promise.allSettled([...this.queues.values()]);
  }

  /** Decides and appends, in the run's queue, and then `carryOut` the effects there too (so they leave in order). */
  apply(
    runId: string,
    command: Command,
    metadata: Readonly<Record<string, string>>,
    carryOut: (state: RunData, effects: readonly Effect[]) => Promise<void>,
  ): Promise<Applied> {
    return this.serial(runId, async () => {
      const applied = await this.decideAndAppend(runId, command, metadata);
      if (applied.events.length > 0) await carryOut(applied.state as RunData, applied.effects);
      return applied;
    });
  }

  async load(runId: string): Promise<Loaded> {
    const cached = this.cache.get(runId);
    if (cached) return cached;
    const { state, revision } = await this.fromStore(runId);
    if (isStarted(state)) this.remember(runId, state, revision as number);
    return { state, revision };
  }

  private async fromStore(runId: string): Promise<Loaded> {
    if (this.options.snapshots !== undefined) return this.options.snapshots.load(runId);
    const events = await this.options.store.readStream(runStream(runId));
    return { state: replay(events), revision: events.at(-1)?.revision ?? null };
  }

  /** The revision this process last wrote or read of a run (live, or ended not long ago), or -1. */
  cachedRevision(runId: string): number {
    return this.cache.get(runId)?.revision ?? this.ended.get(runId) ?? -1;
  }

  isCached(runId: string): boolean {
    return this.cache.has(runId);
  }

  forget(runId: string): void {
    this.cache.delete(runId);
    this.ended.delete(runId);
  }

  remember(runId: string, state: RunData, revision: number): void {
    if (!isTerminalRun(state.status)) {
      this.cache.set(runId, { state, revision });
      return;
    }
    this.cache.delete(runId);
    this.ended.delete(runId);
    this.ended.set(runId, revision);
    if (this.ended.size > ENDED_REMEMBERED) this.ended.delete(this.ended.keys().next().value as string);
  }

  private async decideAndAppend(
    runId: string,
    command: Command,
    metadata: Readonly<Record<string, string>>,
  ): Promise<Applied> {
    for (let attempt = 0; ; attempt++) {
      // A start is most often of a new run: decide it on the empty state and let the append's `no_stream` say
      // otherwise (then reload and decide again), rather than read a stream that is not there.
      const { state, revision } =
        attempt === 0 && command.type === 'StartRun' && !this.cache.has(runId)
          ? { state: replay([]), revision: null }
          : await this.load(runId);
      const standing = this.options.standing?.(command.metadata.now);
      const decision = decide(command, state, standing === undefined ? {} : { standing });
      if (decision.events.length === 0) return { state, events: [], effects: [], unapplied: decision.unapplied };
      const after = decision.state as RunData;
      const plan = this.options.plan(runId, command, after, decision.effects);
      const decided: Decided[] = [...decision.events.map((event) => ({ event, command })), ...plan.extra];
      let nextRevision: number;
      try {
        const records = decided.map(({ event, command: from }) => ({
          type: event.type,
          data: event.data,
          metadata: recordedMetadata(event, from, metadata, this.options.metadata),
        }));
        nextRevision = (
          await this.options.store.append(runStream(runId), records, { expectedRevision: revision ?? 'no_stream' })
        ).nextExpectedRevision;
      } catch (error) {
        plan.rollback();
        // Another writer got there first: reload and decide again on the state it left.
        if (!(error instanceof ExpectedVersionConflictError) || attempt >= CONFLICT_RETRIES) throw error;
        this.cache.delete(runId);
        continue;
      }
      const events = decided.map((d) => d.event);
      const next = fold(
        plan.extra.map((d) => d.event),
        after,
      ) as RunData;
      this.remember(runId, next, nextRevision);
      const last = decided[decided.length - 1]?.event as WorkflowEvent;
      this.options.snapshots?.appended(runId, next, revision, { revision: nextRevision, ...last });
      plan.commit();
      this.observe(runId, state, next, events);
      return { state: next, events, effects: plan.effects, unapplied: null };
    }
  }

  private observe(runId: string, before: RunState, after: RunData, events: readonly WorkflowEvent[]): void {
    try {
      this.options.observer?.(before, after, events);
    } catch (error) {
      this.options.logger.error('the engine observer failed; the run goes on', { runId, error: describeError(error) });
    }
  }
}

/**
 * An event's metadata: when and by what command it was decided, who asked, which instance wrote it. A standing
 * governance ruling the decider applied (ADR 41) is governance's, not the caller's: its actor is the governance
 * instance and it carries none of the caller's metadata (an API key, a command id).
 */
function recordedMetadata(
  event: WorkflowEvent,
  from: Command,
  caller: Readonly<Record<string, string>>,
  instance: Readonly<Record<string, string>>,
): Record<string, unknown> {
  if (event.type === 'GovernanceDecided' && event.data.standing !== undefined) {
    const at = new Date(from.metadata.now).toISOString();
    const actor = `system:governance:${event.data.standing.decidedBy}`;
    return { at, command: 'ApplyStandingRuling', actor, ...instance };
  }
  return { ...eventMetadata(from), ...instance, ...caller };
}

function eventMetadata(command: Command): Record<string, unknown> {
  return {
    at: new Date(command.metadata.now).toISOString(),
    command: command.type,
    ...(command.metadata.actor ? { actor: command.metadata.actor } : {}),
  };
}
