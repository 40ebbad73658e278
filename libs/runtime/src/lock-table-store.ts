/**
 * The lock table in the event store (docs/adr/0037-resource-locks.md): one stream, `orchestron-locks`, holding the
 * LockTableEvents of every tenant (lock names are tenant-scoped inside it). This process folds it once, keeps the
 * fold, and decides on it one decision at a time; each decision is appended at the revision it was decided on, so
 * two instances never both grant a lock: the loser of a race reads what it missed and decides again.
 */
import { ExpectedVersionConflictError } from '@orchestron/event-store';
import type { EventStore } from '@orchestron/event-store';
import { evolveLockTable, initialLockTable } from '@orchestron/workflow-core';
import type { LockTableEvent, LockTableState } from '@orchestron/workflow-core';

export const LOCK_TABLE_STREAM = 'orchestron-locks';
/** Races lost in a row before a decision gives up (and the caller's retry takes over). */
const CONFLICT_RETRIES = 64;
/** After a lost race, a pause of up to this many ms (random) before deciding again, so two instances stop colliding. */
const CONFLICT_JITTER_MS = 8;

export interface LockDecision {
  readonly events: readonly LockTableEvent[];
  /** The table after the decision (before it, when it decided nothing). */
  readonly before: LockTableState;
  readonly after: LockTableState;
}

export class LockTableStore {
  private readonly store: EventStore;
  private folded: { state: LockTableState; revision: number | null } | null = null;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(store: EventStore) {
    this.store = store;
  }

  /** The table as this process last saw it; null before it first read the stream. */
  get known(): LockTableState | null {
    return this.folded?.state ?? null;
  }

  /** Reads what the stream has past the fold (the whole stream the first time). */
  async catchUp(): Promise<LockTableState> {
    const start = this.folded;
    const from = start?.revision === null || start === null ? 0 : start.revision + 1;
    const recorded = await this.store.readStream(LOCK_TABLE_STREAM, { fromRevision: from });
    let { state, revision } = start ?? { state: initialLockTable(), revision: null };
    for (const e of recorded) {
      state = evolveLockTable(state, { type: e.type, data: e.data } as LockTableEvent);
      revision = e.revision;
    }
    // A read (GET /v1/locks) may overlap a decision: the fold never goes back to an older revision than it has.
    const now = this.folded;
    if (now !== null && now !== start && (now.revision ?? -1) >= (revision ?? -1)) return now.state;
    this.folded = { state, revision };
    return state;
  }

  /**
   * Decides on the table and appends the decision at the revision it was decided on; on a conflict (another
   * instance wrote first) it catches up and decides again. One decision at a time in this process.
   */
  decide(decision: (state: LockTableState) => LockTableEvent[]): Promise<LockDecision> {
    const next = this.queue.then(() => this.decideNow(decision));
    this.queue = next.catch(() => undefined);
    return next;
  }

  /**
   * A decision of nothing may come from a fold that missed another instance's writes (a release of an owner it never
   * saw, a request already granted elsewhere): it reads what it missed and decides once more before it says so.
   */
  private async decideNow(decision: (state: LockTableState) => LockTableEvent[]): Promise<LockDecision> {
    let fresh = this.folded === null;
    for (let attempt = 0; ; attempt++) {
      const before = this.folded === null ? await this.catchUp() : this.folded.state;
      const revision = this.folded?.revision ?? null;
      const events = decision(before);
      if (events.length === 0 && !fresh) {
        fresh = true;
        await this.catchUp();
        continue;
      }
      if (events.length === 0) return { events, before, after: before };
      try {
        const result = await this.store.append(LOCK_TABLE_STREAM, events, {
          expectedRevision: revision ?? 'no_stream',
        });
        const after = events.reduce(evolveLockTable, before);
        this.folded = { state: after, revision: result.nextExpectedRevision };
        return { events, before, after };
      } catch (error) {
        if (!(error instanceof ExpectedVersionConflictError) || attempt >= CONFLICT_RETRIES) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.random() * CONFLICT_JITTER_MS));
        await this.catchUp();
        fresh = true;
      }
    }
  }
}
