import pRetry from 'p-retry';
import { decide, holdsAll, holdsLocks, ownerKey, releaseLocks, requestLocks } from '@orchestron/workflow-core';
import type { Command, Effect, LockClaim, LockOwner, Phase, RunData, RunState } from '@orchestron/workflow-core';
import type { LockDecision, LockTableStore } from './lock-table-store.ts';
import { describeError } from './ports.ts';
import type { Clock, Logger } from './ports.ts';
import type { AppendPlan, Applied, Decided } from './run-commands.ts';
import { transient } from './run-messages.ts';

/** Who the runtime says holds, releases and fails attempts for their locks. */
export const LOCKS_ACTOR = 'system:locks';

export interface ResourceLocksDeps {
  readonly table: LockTableStore;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Applies a command to a run (decide, append, carry out), whichever instance owns it. */
  readonly apply: (runId: string, command: Command) => Promise<Applied>;
  /** The run as its stream has it now. */
  readonly load: (runId: string) => Promise<RunState>;
}

interface Pending {
  readonly owner: LockOwner;
  readonly attempt: number;
  readonly claims: readonly LockClaim[];
}

/**
 * Resource locks, on the runtime's side (docs/adr/0037-resource-locks.md). An attempt of a step that declares locks
 * is held (`reason: lock`) in the same append as the decision that dispatched it, unless its step already holds
 * them (a retry); once that append is in, its owner asks the lock table. When the table grants an owner its last
 * lock, the attempt is released (and then goes through flow control like any send); when it breaks a cycle, the
 * victim's attempt fails with LOCK.DEADLOCK. A step that ends releases its locks (`ReleaseLocks`). Everything is
 * repeated safely: recovery asks again for held attempts, and `reconcile` releases what a crash left held.
 */
export class ResourceLocks {
  private readonly deps: ResourceLocksDeps;
  /** Per owner, the work asked for it, in order: a release never overtakes the request it follows. */
  private readonly chains = new Map<string, Promise<void>>();
  private readonly abort = new AbortController();
  private reconciling: Promise<void> | undefined;

  constructor(deps: ResourceLocksDeps) {
    this.deps = deps;
  }

  /** Holds each send whose step does not hold its locks yet; the request goes out once the append is in. */
  plan(runId: string, after: RunData, effects: readonly Effect[]): AppendPlan {
    const known = this.deps.table.known;
    const extra: Decided[] = [];
    const kept: Effect[] = [];
    const pending: Pending[] = [];
    let state = after;
    for (const effect of effects) {
      const locks = effect.type === 'SendStep' ? effect.data.locks : undefined;
      if (effect.type !== 'SendStep' || locks === undefined || locks.length === 0) {
        kept.push(effect);
        continue;
      }
      const { stepId, attempt, phase, worker } = effect.data;
      const owner: LockOwner = { tenant: after.tenant, runId, stepId, phase };
      if (known !== null && holdsAll(known, ownerKey(owner))) {
        kept.push(effect);
        continue;
      }
      const command: Command = {
        type: 'HoldStep',
        data: { stepId, attempt, phase, reason: 'lock', worker, locks: locks.map((l) => l.name) },
        metadata: { now: this.deps.clock.now(), actor: LOCKS_ACTOR },
      };
      const decision = decide(command, state);
      state = decision.state as RunData;
      extra.push(...decision.events.map((event) => ({ event, command })));
      pending.push({ owner, attempt, claims: locks });
    }
    return {
      extra,
      effects: kept,
      commit: () => {
        for (const p of pending) this.request(p.owner, p.attempt, p.claims);
      },
      rollback: () => undefined,
    };
  }

  /** Asks the table for an owner's locks (again, after a restart: the table answers from what it has). */
  request(owner: LockOwner, attempt: number, claims: readonly LockClaim[]): void {
    const key = ownerKey(owner);
    this.inOrder(key, 'take locks', owner, async () => {
      const decision = await this.deps.table.decide((s) =>
        requestLocks(s, owner, attempt, claims, this.deps.clock.now()),
      );
      // Granted before (a grant whose release a crash lost): the attempt can go now.
      if (decision.events.length === 0 && holdsAll(decision.after, key)) await this.releaseAttempt(owner, attempt);
      await this.followUp(decision);
    });
  }

  /** A step (or its compensation, or the run) ended: its locks go to whoever waits next. */
  release(run: RunData, stepId: string, phase: Phase): void {
    const owner: LockOwner = { tenant: run.tenant, runId: run.runId, stepId, phase };
    this.inOrder(ownerKey(owner), 'release locks', owner, async () => {
      const decision = await this.deps.table.decide((s) => releaseLocks(s, ownerKey(owner), this.deps.clock.now()));
      await this.followUp(decision);
    });
  }

  /**
   * Runs `reconcile` without making the caller wait for a pass over every owner in the table (a start does not):
   * tried again while the store is away, like every lock operation; `stop` waits for it.
   */
  reconcileInBackground(): void {
    if (this.abort.signal.aborted || this.reconciling !== undefined) return;
    this.reconciling = this.retried('release the locks of steps that had ended', {}, async () => {
      await this.reconcile();
    }).finally(() => {
      this.reconciling = undefined;
    });
  }

  /**
   * Releases what the table holds for steps that have ended: a release a crash lost between the run's append and
   * the table's. Returns how many owners it released.
   */
  private async reconcile(): Promise<number> {
    const table = await this.deps.table.catchUp();
    let released = 0;
    for (const [key, entry] of Object.entries(table.owners)) {
      if (this.abort.signal.aborted) break;
      const run = await this.deps.load(entry.owner.runId);
      if (holdsLocks(run, entry.owner.stepId, entry.owner.phase)) continue;
      const decision = await this.deps.table.decide((s) => releaseLocks(s, key, this.deps.clock.now()));
      if (decision.events.length > 0) released++;
      await this.followUp(decision);
    }
    if (released > 0) this.deps.logger.warn('released locks of steps that had ended', { owners: released });
    return released;
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await Promise.allSettled([...this.chains.values(), this.reconciling]);
  }

  /** Releases the attempts of owners the decision granted their last lock, and fails the victims of cycles. */
  private async followUp({ events, after }: LockDecision): Promise<void> {
    const work: Promise<unknown>[] = [];
    for (const event of events) {
      if (event.type === 'LockGranted' && holdsAll(after, event.data.owner)) {
        const entry = after.owners[event.data.owner];
        if (entry !== undefined) work.push(this.releaseAttempt(entry.owner, entry.attempt));
      }
      if (event.type === 'DeadlockBroken') {
        const { owner, attempt, message, cycle } = event.data;
        const links = cycle.map((l) => `${l.waiter} waits for ${l.lock} (${l.how}: ${l.blocker})`);
        this.deps.logger.warn('lock deadlock broken', { runId: owner.runId, stepId: owner.stepId, message });
        work.push(
          this.deps.apply(owner.runId, {
            type: 'FailLockWait',
            data: { stepId: owner.stepId, attempt, phase: owner.phase, code: 'LOCK.DEADLOCK', message, cycle: links },
            metadata: { now: this.deps.clock.now(), actor: LOCKS_ACTOR },
          }),
        );
      }
    }
    await Promise.all(work);
  }

  private releaseAttempt(owner: LockOwner, attempt: number): Promise<Applied> {
    return this.deps.apply(owner.runId, {
      type: 'ReleaseStep',
      data: { stepId: owner.stepId, attempt, phase: owner.phase },
      metadata: { now: this.deps.clock.now(), actor: LOCKS_ACTOR },
    });
  }

  /** Runs the work after the owner's earlier work (see `retried`). */
  private inOrder(key: string, what: string, owner: LockOwner, work: () => Promise<void>): void {
    if (this.abort.signal.aborted) return;
    const previous = this.chains.get(key) ?? Promise.resolve();
    const next = previous
      .then(() => this.retried(what, owner, work))
      .finally(() => {
        if (this.chains.get(key) === next) this.chains.delete(key);
      });
    this.chains.set(key, next);
  }

  /**
   * Does the work, trying again while the store is away (recovery and `reconcile` repeat it after a restart), until
   * `stop`; a failure of another kind is logged once. Never rejects.
   */
  private async retried(what: string, fields: object, work: () => Promise<void>): Promise<void> {
    const { logger } = this.deps;
    try {
      await pRetry(work, {
        retries: Number.POSITIVE_INFINITY,
        minTimeout: 200,
        maxTimeout: 30_000,
        randomize: true,
        signal: this.abort.signal,
        shouldRetry: ({ error }) => transient(error) && !this.abort.signal.aborted,
        onFailedAttempt: ({ error, attemptNumber }) => {
          if (attemptNumber >= 5)
            logger.warn(`could not ${what} yet; trying again`, { ...fields, error: describeError(error) });
        },
      });
    } catch (error) {
      if (!this.abort.signal.aborted) logger.error(`could not ${what}`, { ...fields, error: describeError(error) });
    }
  }
}
