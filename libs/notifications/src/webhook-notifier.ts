import type { EventStore } from '@orchestron/event-store';
import type { Logger } from '@orchestron/telemetry';
import { DeliveryLog } from './delivery-log.ts';
import { DEFAULT_RETRY, DEFAULT_RUN_LIMIT } from './delivery-policy.ts';
import type { RetrySchedule, RunLimit } from './delivery-policy.ts';
import { DeliveryPump } from './delivery-pump.ts';
import { NotificationProjection } from './notification-projection.ts';
import type { WebhookEndpoint } from './webhook-config.ts';

export interface WebhookNotifierOptions {
  readonly store: EventStore;
  readonly endpoints: readonly WebhookEndpoint[];
  readonly logger: Logger;
  readonly clock?: () => number;
  readonly retry?: Partial<RetrySchedule>;
  /** Default 10 notifications per run and endpoint per minute; more wait for the window to move on. */
  readonly runLimit?: RunLimit;
  /** How long one attempt may take, in ms. Default 10,000. */
  readonly timeoutMs?: number;
  /** Attempts in flight to one endpoint at most. Default 4. */
  readonly concurrency?: number;
  /** How often due records are looked for, in ms. Default 250. */
  readonly pollMs?: number;
  /** Default `webhook-notifier`. */
  readonly checkpointName?: string;
  /** Where the notifier starts the first time (no checkpoint): the log's `end` (default) or its `beginning`. */
  readonly startAt?: 'end' | 'beginning';
}

export interface WebhookNotifier {
  /** The global position of the last event the notifier has looked at. */
  readonly position: () => number;
  close(): Promise<void>;
}

/**
 * Webhooks for the events people must hear of: a projection of the global log that saves a delivery record per
 * notification and endpoint, and a pump that sends them, both beside the store. One per deployment: two would
 * each send every notification (receivers de-duplicate by webhook-id, but each attempt would be made twice).
 */
export async function startWebhookNotifier(options: WebhookNotifierOptions): Promise<WebhookNotifier> {
  const { store, endpoints, logger } = options;
  if (store.readRows === undefined || store.checkpoints === undefined)
    throw new Error(
      'webhooks need an event store that keeps read rows and checkpoints (the embedded SQLite store or PostgreSQL)',
    );
  const clock = options.clock ?? Date.now;
  const log = new DeliveryLog(store.readRows);
  const pump = new DeliveryPump({
    log,
    endpoints,
    logger,
    clock,
    settings: {
      retry: { ...DEFAULT_RETRY, ...options.retry },
      runLimit: options.runLimit ?? DEFAULT_RUN_LIMIT,
      timeoutMs: options.timeoutMs ?? 10_000,
      concurrency: options.concurrency ?? 4,
      pollMs: options.pollMs ?? 250,
    },
  });
  const projection = new NotificationProjection({
    store,
    checkpoints: store.checkpoints,
    log,
    endpoints,
    logger,
    clock,
    onRecord: (record) => pump.add(record),
    checkpointName: options.checkpointName ?? 'webhook-notifier',
    startAt: options.startAt ?? 'end',
    checkpointEveryMs: 1_000,
  });
  await pump.start();
  await projection.start();
  logger.info('webhook notifier started', {
    endpoints: endpoints.map((endpoint) => ({
      id: endpoint.id,
      events: endpoint.events ?? 'all',
      tenant: endpoint.tenant,
    })),
    position: projection.position,
  });
  return {
    position: () => projection.position,
    async close() {
      await projection.close();
      await pump.close();
    },
  };
}
