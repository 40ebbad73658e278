import { Topics } from '@orchestron/bus';
import type { MessageBus, WorkflowStartMessage } from '@orchestron/bus';
import { OrchestronError } from '@orchestron/errors';
import { describeError } from './ports.ts';
import type { Logger } from './ports.ts';

/** A start as the outbox keeps it: the bus message, and the trace it continues. */
export interface OutboxStart {
  readonly runId: string;
  readonly message: WorkflowStartMessage;
  readonly traceparent: string;
}

interface Pending {
  start: OutboxStart;
  readonly position: number;
  /** Recorded by another process, or before this one began: published only if its run has not started by then. */
  foreign: boolean;
  notBefore: number;
  attempts: number;
}

export interface StartRelayOptions {
  readonly bus: MessageBus;
  readonly logger: Logger;
  /** Whether the run has started: a foreign start whose run has is not published again. */
  readonly hasStarted: (runId: string) => Promise<boolean>;
  /** Retries back off from 250 ms to this. Default 2 s: a start waits at most this long after the broker is back. */
  readonly maxBackoffMs?: number;
}

/** Publishes at most this many starts at once; the bus coalesces them into shared produce requests. */
const BATCH = 500;
const FIRST_BACKOFF_MS = 250;
// Scheduling runs on the wall clock, not an injected Clock: a frozen test clock must not freeze the retries.
/** How long the loop sleeps when nothing is pending; a new start wakes it at once. */
const IDLE_MS = 60_000;

/**
 * The publishing half of the start outbox: every start recorded in the event store is published to
 * `orchestron.workflow.starts` until the bus takes it, with backoff while it does not. Starts are idempotent by run
 * id at the orchestrator, so publishing one twice (after a crash, or by two API processes) never runs it twice.
 */
export class StartRelay {
  private readonly options: StartRelayOptions;
  private readonly maxBackoffMs: number;
  private readonly pending = new Map<string, Pending>();
  private readonly outageWaiters = new Set<() => void>();
  private available = true;
  private stopped = false;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;

  constructor(options: StartRelayOptions) {
    this.options = options;
    this.maxBackoffMs = options.maxBackoffMs ?? 2_000;
  }

  /** A start to publish. A start of this process's own replaces a foreign one for the same run: it goes at once. */
  add(start: OutboxStart, position: number, foreign: { readonly notBefore: number } | null): void {
    const known = this.pending.get(start.runId);
    if (known !== undefined) {
      if (foreign === null && known.foreign) Object.assign(known, { start, foreign: false, notBefore: 0 });
    } else {
      this.pending.set(start.runId, {
        start,
        position,
        foreign: foreign !== null,
        notBefore: foreign?.notBefore ?? 0,
        attempts: 0,
      });
    }
    this.wake?.();
  }

  /** The lowest log position of a start not published yet: the outbox's checkpoint stays below it. */
  lowestPending(): number | undefined {
    let lowest: number | undefined;
    for (const { position } of this.pending.values()) if (lowest === undefined || position < lowest) lowest = position;
    return lowest;
  }

  get size(): number {
    return this.pending.size;
  }

  /** Settles when a publish fails because the bus is away; at once while it is. */
  whenUnavailable(): { promise: Promise<void>; cancel(): void } {
    let waiter: (() => void) | undefined;
    const promise = new Promise<void>((resolve) => {
      if (!this.available) return resolve();
      waiter = resolve;
      this.outageWaiters.add(resolve);
    });
    return { promise, cancel: () => (waiter !== undefined ? void this.outageWaiters.delete(waiter) : undefined) };
  }

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
    for (const resolve of this.outageWaiters) resolve();
    this.outageWaiters.clear();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const now = Date.now();
      const due = [...this.pending.values()].filter((p) => p.notBefore <= now).slice(0, BATCH);
      if (due.length > 0) await Promise.all(due.map((p) => this.publish(p)));
      else await this.sleep(this.nextDueIn(now));
    }
  }

  private nextDueIn(now: number): number {
    let next = IDLE_MS;
    for (const { notBefore } of this.pending.values()) next = Math.min(next, Math.max(0, notBefore - now));
    return next;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }

  private async publish(pending: Pending): Promise<void> {
    const { runId, message, traceparent } = pending.start;
    try {
      if (pending.foreign && (await this.options.hasStarted(runId))) {
        this.pending.delete(runId);
        return;
      }
    } catch (error) {
      // The store is away too: the outbox keeps the start, and the check is made again.
      this.retryLater(pending);
      this.options.logger.warn('start relay: cannot tell whether a recorded start has run yet', {
        runId,
        error: describeError(error),
      });
      return;
    }
    try {
      await this.options.bus.publish(Topics.workflowStarts, [{ key: runId, value: message, headers: { traceparent } }]);
      if (this.pending.get(runId) === pending) this.pending.delete(runId);
      this.markAvailable();
    } catch (error) {
      this.retryLater(pending);
      if (error instanceof OrchestronError && error.retryable) this.markUnavailable(error);
      // Not an outage (the broker refuses the record, or the bus is misconfigured): loud, and the start is kept.
      else
        this.options.logger.error('start relay: the bus refused a start; it stays in the outbox', {
          runId,
          attempts: pending.attempts,
          error: describeError(error),
        });
    }
  }

  private retryLater(pending: Pending): void {
    pending.attempts += 1;
    const backoff = Math.min(this.maxBackoffMs, FIRST_BACKOFF_MS * 2 ** Math.min(pending.attempts - 1, 16));
    pending.notBefore = Date.now() + backoff;
  }

  private markUnavailable(error: unknown): void {
    if (this.available)
      this.options.logger.warn('start relay: the bus is unavailable; starts wait in the outbox until it is back', {
        pending: this.pending.size,
        error: describeError(error),
      });
    this.available = false;
    for (const resolve of this.outageWaiters) resolve();
    this.outageWaiters.clear();
  }

  private markAvailable(): void {
    if (!this.available) this.options.logger.info('start relay: the bus is back', { pending: this.pending.size });
    this.available = true;
  }
}
