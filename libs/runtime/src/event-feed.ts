import type { EventStore, RecordedEvent, Subscription } from '@orchestron/event-store';
import { runIdOf, runStream } from './run-summary.ts';

const DEFAULT_TENANT = 'default';
/** Runs whose tenant one feed remembers before it forgets them all and reads again as needed. */
const TENANT_CACHE_LIMIT = 10_000;

/** What a follower of the log asks for: run events past a position, of one run or one tenant, or all. */
export interface EventFeedRequest {
  /** Exclusive global position (an SSE `Last-Event-ID`); absent: from now on. */
  readonly after?: number;
  /** Only this run's events. */
  readonly runId?: string;
  /** Only the events of this tenant's runs; absent: every tenant's. */
  readonly tenant?: string;
  /** The error that stopped the feed (a failing read). */
  readonly onError?: (error: unknown) => void;
}

/** A run event as a feed delivers it: the run it belongs to, and the tenant that run is of. */
export interface FeedEvent {
  readonly runId: string;
  readonly tenant: string;
  readonly event: RecordedEvent;
}

/**
 * Follows the global log from `after` (the store's catch-up subscription: every event once, in order) and hands
 * on the run events the request is about. The tenant of a run is in its first event: a feed learns it from a
 * RunStarted it sees, else reads that first event once.
 */
export function followEventFeed(
  store: EventStore,
  request: EventFeedRequest & { readonly after: number },
  handler: (event: FeedEvent) => void,
): Subscription {
  const tenants = new Map<string, string>();
  const tenantOf = async (runId: string, event: RecordedEvent): Promise<string> => {
    const known = tenants.get(runId);
    if (known !== undefined) return known;
    const first = event.revision === 0 ? event : (await store.readStream(runStream(runId), { maxCount: 1 }))[0];
    const tenant = (first?.data as { tenant?: unknown } | undefined)?.tenant;
    const found = typeof tenant === 'string' ? tenant : DEFAULT_TENANT;
    if (tenants.size >= TENANT_CACHE_LIMIT) tenants.clear();
    tenants.set(runId, found);
    return found;
  };
  return store.subscribeToAll(
    { after: request.after, ...(request.onError ? { onError: request.onError } : {}) },
    async (event) => {
      const runId = runIdOf(event);
      if (runId === undefined || (request.runId !== undefined && runId !== request.runId)) return;
      const tenant = await tenantOf(runId, event);
      if (request.tenant !== undefined && tenant !== request.tenant) return;
      handler({ runId, tenant, event });
    },
  );
}
