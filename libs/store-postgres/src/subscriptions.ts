import type { EventHandler, RecordedEvent, SubscribeToAllOptions, Subscription } from '@orchestron/event-store';
import { createSubscriptionHub } from '@orchestron/event-store/adapter';
import type { Pool } from 'pg';
import { createLiveFeed } from './live-feed.ts';
import { listenForAppends } from './notification-listener.ts';

export interface SubscriptionsOptions {
  readonly pool: Pool;
  /** The rows channel: appends send what they committed on it (ADR 50). */
  readonly channel: string;
  readonly readAll: (after: number, maxCount: number) => Promise<readonly RecordedEvent[]>;
  readonly readHead: () => Promise<number>;
  readonly pollIntervalMs: number;
}

export interface Subscriptions {
  subscribe(options: SubscribeToAllOptions, handler: EventHandler): Subscription;
  /** This process committed up to `position`. */
  committed(position: number): void;
  /** This process committed `events`, consecutive positions in order (see LiveFeed.appended). */
  appended(events: readonly RecordedEvent[]): void;
  /** An append of this process went out, and its answer came back (or its failure): see LiveFeed.notified. */
  appendStarted(): void;
  appendEnded(): void;
  /** Whether anyone subscribes: whether `appended` is worth building events for. */
  readonly hasSubscribers: boolean;
  /** Ends every subscription and stops listening. */
  close(): Promise<void>;
}

/**
 * The shared subscription hub, fed from the table whenever a NOTIFY, a commit of this process or the poll says
 * there may be more, and with this process's own commits as they are, when nothing can come between.
 */
export async function startSubscriptions(options: SubscriptionsOptions): Promise<Subscriptions> {
  const hub = createSubscriptionHub(options.readAll);
  let feed: ReturnType<typeof createLiveFeed> | undefined;
  const listener = await listenForAppends({
    pool: options.pool,
    channel: options.channel,
    onRows: (to, rows) => feed?.notifiedRows(to, rows),
    onUnreadable: () => feed?.wake(),
    onReconnected: () => feed?.wake(),
  });
  try {
    // Read once LISTEN is in place, so no commit falls between the head and the first notification.
    feed = createLiveFeed({
      hub,
      readAll: options.readAll,
      head: await options.readHead(),
      pollIntervalMs: options.pollIntervalMs,
    });
  } catch (error) {
    listener.close();
    throw error;
  }
  const live = feed;
  return {
    subscribe(subscribeOptions, handler) {
      const subscription = hub.subscribe(subscribeOptions, handler);
      live.subscribed();
      return subscription;
    },
    committed: (position) => live.committed(position),
    appended: (events) => live.appended(events),
    appendStarted: () => live.appendStarted(),
    appendEnded: () => live.appendEnded(),
    get hasSubscribers() {
      return hub.hasSubscribers;
    },
    async close() {
      await hub.closeAll();
      listener.close();
      await live.close();
    },
  };
}
