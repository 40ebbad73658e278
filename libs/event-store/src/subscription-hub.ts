import { normalizeSubscribeArguments } from './arguments.ts';
import type { EventHandler, RecordedEvent, SubscribeToAllOptions, Subscription } from './event-store.port.ts';

/** Reads committed events with a position greater than `after`, in position order. */
export type ReadCommittedAfter = (after: number, maxCount: number) => Promise<readonly RecordedEvent[]>;

export interface SubscriptionHubOptions {
  /** Events read per query while catching up. */
  readonly pageSize?: number;
  /** Live events a slow subscriber may buffer before it drops them and catches up from the store again. */
  readonly liveBufferLimit?: number;
}

/**
 * Fans committed events out to catch-up subscriptions. An adapter calls `publish` synchronously after each
 * commit, in position order; the hub guarantees each subscriber sees every event once, in order.
 */
export interface SubscriptionHub {
  subscribe(options: SubscribeToAllOptions, handler: EventHandler): Subscription;
  publish(events: readonly RecordedEvent[]): void;
  /** Lets an adapter skip building events for publication when nobody listens. */
  readonly hasSubscribers: boolean;
  closeAll(): Promise<void>;
}

interface Limits {
  readonly pageSize: number;
  readonly liveBufferLimit: number;
}

export function createSubscriptionHub(read: ReadCommittedAfter, options: SubscriptionHubOptions = {}): SubscriptionHub {
  const limits: Limits = { pageSize: options.pageSize ?? 500, liveBufferLimit: options.liveBufferLimit ?? 10_000 };
  const subscriptions = new Set<CatchUpSubscription>();
  return {
    subscribe(subscribeOptions, handler) {
      const { after, onError } = normalizeSubscribeArguments(subscribeOptions, handler);
      const subscription = new CatchUpSubscription({
        after,
        handler,
        onError,
        read,
        limits,
        detach: () => subscriptions.delete(subscription),
      });
      // Registered before the first read, so every later commit lands in its buffer.
      subscriptions.add(subscription);
      subscription.start();
      return subscription;
    },
    publish(events) {
      if (events.length === 0) return;
      for (const subscription of subscriptions) subscription.push(events);
    },
    get hasSubscribers() {
      return subscriptions.size > 0;
    },
    async closeAll() {
      await Promise.all([...subscriptions].map((subscription) => subscription.close()));
    },
  };
}

interface CatchUpSubscriptionParams {
  readonly after: number;
  readonly handler: EventHandler;
  readonly onError: ((error: unknown) => void) | undefined;
  readonly read: ReadCommittedAfter;
  readonly limits: Limits;
  readonly detach: () => void;
}

/**
 * Reads from the store until it is caught up, then follows the events pushed to it. The store stays the source
 * of truth: whenever the live buffer overflows, the buffer is dropped and the subscription reads again from the
 * last position it delivered. Deduplication by position makes the overlap between reads and pushes harmless.
 */
class CatchUpSubscription implements Subscription {
  private readonly params: CatchUpSubscriptionParams;
  private lastDelivered: number;
  private buffer: RecordedEvent[] = [];
  private overflowed = false;
  private closed = false;
  private wakeUp: (() => void) | undefined;
  private done: Promise<void> = Promise.resolve();

  constructor(params: CatchUpSubscriptionParams) {
    this.params = params;
    this.lastDelivered = params.after;
  }

  start(): void {
    this.done = this.run();
  }

  push(events: readonly RecordedEvent[]): void {
    if (this.closed) return;
    if (!this.overflowed) {
      for (const event of events) this.buffer.push(event);
      if (this.buffer.length > this.params.limits.liveBufferLimit) {
        this.buffer = [];
        this.overflowed = true;
      }
    }
    this.signal();
  }

  close(): Promise<void> {
    if (!this.closed) this.stop();
    return this.done;
  }

  private async run(): Promise<void> {
    try {
      while (!this.closed) {
        // Reset before reading: whatever is dropped from here on is committed after this read starts.
        this.overflowed = false;
        await this.catchUp();
        await this.followLive();
      }
    } catch (error) {
      if (this.closed) return;
      this.stop();
      this.report(error);
    }
  }

  private async catchUp(): Promise<void> {
    const { pageSize } = this.params.limits;
    for (;;) {
      const page = await this.params.read(this.lastDelivered, pageSize);
      for (const event of page) {
        if (this.closed) return;
        await this.deliver(event);
      }
      if (page.length < pageSize || this.closed) return;
    }
  }

  private async followLive(): Promise<void> {
    while (!this.closed && !this.overflowed) {
      if (this.buffer.length === 0) {
        await this.nextPush();
        continue;
      }
      const batch = this.buffer;
      this.buffer = [];
      for (const event of batch) {
        if (this.closed) return;
        await this.deliver(event);
      }
    }
  }

  private async deliver(event: RecordedEvent): Promise<void> {
    if (event.position <= this.lastDelivered) return;
    await this.params.handler(event);
    this.lastDelivered = event.position;
  }

  private nextPush(): Promise<void> {
    return new Promise((resolve) => {
      this.wakeUp = resolve;
    });
  }

  private signal(): void {
    const wakeUp = this.wakeUp;
    this.wakeUp = undefined;
    wakeUp?.();
  }

  private stop(): void {
    this.closed = true;
    this.buffer = [];
    this.params.detach();
    this.signal();
  }

  private report(error: unknown): void {
    try {
      this.params.onError?.(error);
    } catch {
      // The subscription is already stopped; a failing error callback has nowhere left to report to.
    }
  }
}
