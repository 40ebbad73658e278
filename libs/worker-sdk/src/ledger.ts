import type { StepUsage } from '@orchestron/bus';
/** What an attempt came to, as reported and as kept by a ledger. */
export type Outcome = (
  | { readonly ok: true; readonly output: unknown }
  | {
      readonly ok: false;
      readonly error: { readonly code: string; readonly message: string; readonly retryable: boolean };
    }
) & {
  /** What the attempt used (ctx.reportUsage), kept so that a repeated outcome reports the same. */
  readonly usage?: StepUsage;
};

/** Who claims an attempt, and which attempt: kept with the claim and in the execution log. */
export interface ClaimContext {
  readonly runId: string;
  readonly stepId: string;
  readonly attempt: number;
  readonly phase: 'execute' | 'compensate';
  readonly worker: string;
  /** The worker process (or replica) that claims: two instances of one worker name differ here. */
  readonly instance: string;
}

/**
 * - `claimed`: this caller owns the attempt and runs the handler, then calls `complete`.
 * - `done`: the attempt ran before; report its stored outcome without running anything.
 * - `running`: another claim holds it (another instance, or a process that died mid-attempt). Do nothing: if
 *   that owner is gone, the orchestrator's attempt timeout dispatches a new attempt under a new key. A ledger
 *   that can tell the owner is dead may instead end the claim with a retryable failure outcome and return it
 *   as `done` (SqliteLedger's WORKER.CLAIM_ABANDONED): the next attempt then comes without waiting.
 */
export type ClaimResult =
  | {
      readonly state: 'claimed';
      /**
       * The ledger logged the handler's start with the claim, in the same statement (see `recordExecution`): the
       * worker then does not call `recordExecution`, one round trip fewer per attempt.
       */
      readonly executionRecorded?: true;
    }
  | { readonly state: 'done'; readonly outcome: Outcome }
  | { readonly state: 'running' };

/**
 * Where workers of one name remember attempts by idempotency key, shared by all their instances. `claim` must be
 * atomic across every instance that shares the ledger: of any number of concurrent claims of one key, exactly one
 * returns `claimed`, ever. That is what makes "no attempt executes twice" hold; a claim is never given back, so
 * an attempt whose owner died is abandoned, not retried under the same key.
 */
export interface IdempotencyLedger {
  claim(key: string, context: ClaimContext): Promise<ClaimResult>;
  /** Stores the outcome of an attempt this caller claimed; later claims of the key return it as `done`. */
  complete(key: string, outcome: Outcome): Promise<void>;
  /**
   * Optional log of every handler start, written right before the handler runs and independently of `claim`,
   * so a test can count attempts that ran more than once (the count stays honest even if `claim` were broken).
   * A ledger may instead log it within a winning claim's own statement and say so (`executionRecorded`): a claim
   * given twice still leaves two rows, and the worker then does not call this.
   */
  recordExecution?(key: string, context: ClaimContext): Promise<void>;
}

interface Entry {
  state: 'running' | 'done';
  outcome?: Outcome;
}

/**
 * A ledger in this process's memory: enough for one instance, and for tests. Only `done` entries are evicted
 * (oldest first) beyond `capacity`; an evicted key that is delivered again runs again, so size it above the
 * number of attempts a redelivery can reach back to.
 */
export function createMemoryLedger(
  options: { readonly capacity?: number } = {},
): IdempotencyLedger & { readonly size: number } {
  const capacity = options.capacity ?? 10_000;
  if (!Number.isInteger(capacity) || capacity < 1)
    throw new TypeError(`createMemoryLedger: capacity must be a positive integer, got ${String(options.capacity)}`);
  const entries = new Map<string, Entry>();
  const evict = (): void => {
    for (const [key, entry] of entries) {
      if (entries.size <= capacity) return;
      if (entry.state === 'done') entries.delete(key);
    }
  };
  return {
    get size() {
      return entries.size;
    },
    async claim(key) {
      const entry = entries.get(key);
      if (entry === undefined) {
        entries.set(key, { state: 'running' });
        return { state: 'claimed' };
      }
      return entry.state === 'done' ? { state: 'done', outcome: entry.outcome as Outcome } : { state: 'running' };
    },
    async complete(key, outcome) {
      // Re-inserted so eviction, which walks insertion order, takes the longest-finished first.
      entries.delete(key);
      entries.set(key, { state: 'done', outcome });
      evict();
    },
  };
}
