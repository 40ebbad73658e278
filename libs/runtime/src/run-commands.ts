import { ExpectedVersionConflictError } from '@orchestron/event-store';
import type { EventStore } from '@orchestron/event-store';
import { isStarted, isTerminalRun } from '@orchestron/workflow-core';
import type { Command, Effect, RunData, RunState, StandingLookup, WorkflowEvent } from '@orchestron/workflow-core';
import { describeError } from './ports.ts';
import type { Logger } from './ports.ts';
import { replay } from './replay.ts';
import { runStream } from './run-index.ts';
import { decideBatch, rollBack } from './run-batch.ts';
import type { Applied, BatchDecision, PlanAppend, Waiting } from './run-batch.ts';
import type { RunSnapshots } from './run-snapshots.ts';

const CONFLICT_RETRIES = 8;
/** Runs that ended, remembered by their last revision so their own events coming back are not taken for news. */
const ENDED_REMEMBERED = 10_000;

interface Loaded {
  readonly state: RunState;
  readonly revision: number | null;
}

export type { AppendPlan, Applied, Decided, PlanAppend } from './run-batch.ts';

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
  /** Commands waiting for their run's queue, by run, that a command arriving now may join (one append for all). */
  private readonly joinable = new Map<string, Waiting[]>();

  constructor(options: RunCommandsOptions) {
    this.options = options;
  }

  /** Work for one run, after everything queued for it before. */
  serial<T>(runId: string, work: () => Promise<T>): Promise<T> {
    // Commands arriving after this work must wait for it: they may not join a batch queued before it.
    this.joinable.delete(runId);
    return this.enqueue(runId, work);
  }

  private enqueue<T>(runId: string, work: () => Promise<T>): Promise<T> {
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

  /**
   * Decides and appends, in the run's queue, and then `carryOut` the effects there too (so they leave in order).
   * Commands that arrive for a run while it is busy wait together: they are decided one after the other, each on
   * the state the one before left, appended at once, and their effects carried out in their order.
   */
  apply(
    runId: string,
    command: Command,
    metadata: Readonly<Record<string, string>>,
    carryOut: (state: RunData, effects: readonly Effect[]) => Promise<void>,
  ): Promise<Applied> {
    return new Promise<Applied>((resolve, reject) => {
      const item: Waiting = { command, metadata, carryOut, resolve, reject };
      const waiting = this.joinable.get(runId);
      if (waiting !== undefined) {
        waiting.push(item);
        return;
      }
      const batch = [item];
      this.joinable.set(runId, batch);
      void this.enqueue(runId, async () => {
        if (this.joinable.get(runId) === batch) this.joinable.delete(runId);
        await this.applyBatch(runId, batch);
      });
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

  private async applyBatch(runId: string, batch: readonly Waiting[]): Promise<void> {
    let decided: BatchDecision;
    try {
      decided = await this.decideAndAppend(runId, batch);
    } catch (error) {
      for (const item of batch) item.reject(error);
      return;
    }
    // Each command's effects, in order, against the state the whole batch left: what is out now (the flow control
    // slots, the timers) is what every command of the batch decided, not only the ones before it.
    const latest = decided.state as RunData;
    for (const outcome of decided.outcomes) {
      if (outcome.kind === 'threw') outcome.item.reject(outcome.error);
      else if (outcome.kind === 'unapplied') outcome.item.resolve(outcome.applied);
      else
        try {
          await outcome.item.carryOut(latest, outcome.applied.effects);
          outcome.item.resolve(outcome.applied);
        } catch (error) {
          outcome.item.reject(error);
        }
    }
  }

  /** The batch decided and appended in one append, with the conflict retry: what each command came to. */
  private async decideAndAppend(runId: string, batch: readonly Waiting[]): Promise<BatchDecision> {
    const first = batch[0]?.command;
    for (let attempt = 0; ; attempt++) {
      // A start is most often of a new run: decide it on the empty state and let the append's `no_stream` say
      // otherwise (then reload and decide again), rather than read a stream that is not there.
      const { state, revision } =
        attempt === 0 && first?.type === 'StartRun' && !this.cache.has(runId)
          ? { state: replay([]), revision: null }
          : await this.load(runId);
      const decided = decideBatch(runId, state, batch, this.options);
      if (decided.records.length === 0) return decided;
      let nextRevision: number;
      try {
        const records = decided.records.map(({ decided: { event, command }, metadata }) => ({
          type: event.type,
          data: event.data,
          metadata: recordedMetadata(event, command, metadata, this.options.metadata),
        }));
        nextRevision = (
          await this.options.store.append(runStream(runId), records, { expectedRevision: revision ?? 'no_stream' })
        ).nextExpectedRevision;
      } catch (error) {
        rollBack(decided.outcomes);
        // Another writer got there first: reload and decide again on the state it left.
        if (!(error instanceof ExpectedVersionConflictError) || attempt >= CONFLICT_RETRIES) throw error;
        this.cache.delete(runId);
        continue;
      }
      const next = decided.state as RunData;
      this.remember(runId, next, nextRevision);
      const last = decided.records[decided.records.length - 1]?.decided.event as WorkflowEvent;
      this.options.snapshots?.appended(runId, next, revision, { revision: nextRevision, ...last });
      for (const outcome of decided.outcomes)
        if (outcome.kind === 'decided') {
          outcome.plan.commit();
          this.observe(runId, outcome.before, outcome.applied.state, outcome.applied.events);
        }
      return decided;
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
