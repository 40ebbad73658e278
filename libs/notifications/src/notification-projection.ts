import type { CheckpointStore, EventStore, RecordedEvent, Subscription } from '@orchestron/event-store';
import type { Logger } from '@orchestron/telemetry';
import { pendingDelivery } from './delivery-log.ts';
import type { DeliveryLog, DeliveryRecord } from './delivery-log.ts';
import { notificationOf, notificationTypeOf } from './notification-types.ts';
import type { Notification } from './notification-types.ts';
import { RunFactsCache, runIdOf } from './run-facts.ts';
import type { WebhookEndpoint } from './webhook-config.ts';

export interface NotificationProjectionDeps {
  readonly store: EventStore;
  readonly checkpoints: CheckpointStore;
  readonly log: DeliveryLog;
  readonly endpoints: readonly WebhookEndpoint[];
  readonly logger: Logger;
  readonly clock: () => number;
  /** Told of each record the projection saved, so it is sent without waiting for a poll. */
  readonly onRecord: (record: DeliveryRecord) => void;
  readonly checkpointName: string;
  /** Where a projection with no checkpoint starts: the log's end (the default: no flood of old news) or its start. */
  readonly startAt: 'end' | 'beginning';
  readonly checkpointEveryMs: number;
}

const RESUBSCRIBE_MS = 1_000;

/**
 * Tails the global log from its checkpoint and saves a pending delivery record for each notifiable event and
 * each endpoint that wants it, before the checkpoint moves past the event. A crash in between makes it meet the
 * event again after the restart; the record's id (endpoint and event id) is what keeps that from sending twice.
 */
export class NotificationProjection {
  readonly #deps: NotificationProjectionDeps;
  readonly #runs: RunFactsCache;
  #position = 0;
  #lastEventId: string | null = null;
  #savedPosition = -1;
  #subscription: Subscription | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  #closed = false;

  constructor(deps: NotificationProjectionDeps) {
    this.#deps = deps;
    this.#runs = new RunFactsCache(deps.store);
  }

  get position(): number {
    return this.#position;
  }

  async start(): Promise<void> {
    this.#position = await this.#startPosition();
    await this.#save();
    this.#timer = setInterval(() => void this.#save(), this.#deps.checkpointEveryMs);
    this.#timer.unref();
    this.#subscribe();
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    await this.#subscription?.close();
    await this.#save();
  }

  #subscribe(): void {
    const onError = (error: unknown): void => {
      this.#deps.logger.warn('webhook notifier stopped reading the log; it starts again from its position', {
        position: this.#position,
        error: error instanceof Error ? error.message : String(error),
      });
      setTimeout(() => {
        if (!this.#closed) this.#subscribe();
      }, RESUBSCRIBE_MS).unref();
    };
    this.#subscription = this.#deps.store.subscribeToAll({ after: this.#position, onError }, (event) =>
      this.#handle(event),
    );
  }

  async #handle(event: RecordedEvent): Promise<void> {
    this.#runs.observe(event);
    const runId = runIdOf(event);
    if (runId !== undefined && notificationTypeOf(event) !== undefined) {
      const facts = await this.#runs.of(runId);
      const notification = facts === undefined ? undefined : notificationOf(event, runId, facts);
      if (notification !== undefined) await this.#record(notification);
    }
    this.#position = event.position;
    this.#lastEventId = event.id;
  }

  async #record(notification: Notification): Promise<void> {
    const { type, data } = notification;
    for (const endpoint of this.#deps.endpoints) {
      if (endpoint.events !== null && !endpoint.events.includes(type)) continue;
      if (endpoint.tenant !== null && endpoint.tenant !== data.tenant) continue;
      const record = pendingDelivery(endpoint.id, notification, this.#deps.clock());
      if ((await this.#deps.log.get(record.id)) !== undefined) continue;
      await this.#deps.log.save(record);
      this.#deps.onRecord(record);
    }
  }

  async #save(): Promise<void> {
    const position = this.#position;
    if (position === this.#savedPosition) return;
    const state = JSON.stringify({ lastEventId: this.#lastEventId });
    try {
      await this.#deps.checkpoints.save(this.#deps.checkpointName, { position, state });
      this.#savedPosition = position;
    } catch (error) {
      this.#deps.logger.warn('could not save the webhook notifier checkpoint; the next save tries again', {
        position,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }

  async #startPosition(): Promise<number> {
    const { checkpoints, checkpointName, logger, startAt } = this.#deps;
    const stored = await checkpoints.load(checkpointName).catch((error: unknown) => {
      logger.warn('webhook notifier checkpoint unreadable; starting at the end of the log', {
        error: error instanceof Error ? error.message : String(error),
      });
      return undefined;
    });
    if (stored !== undefined) {
      const lastEventId = (JSON.parse(stored.state) as { lastEventId: string | null }).lastEventId;
      if (await this.#holds(stored.position, lastEventId)) {
        this.#lastEventId = lastEventId;
        return stored.position;
      }
      logger.warn('webhook notifier checkpoint is not of this log (restored from a backup?); starting at its end', {
        position: stored.position,
      });
    } else if (startAt === 'beginning') return 0;
    const head = await headOf(this.#deps.store);
    this.#lastEventId = head?.id ?? null;
    return head?.position ?? 0;
  }

  /** Whether the log holds event `eventId` at `position` (trivially so at position 0). */
  async #holds(position: number, eventId: string | null): Promise<boolean> {
    if (position === 0) return true;
    const [event] = await this.#deps.store.readAll({ after: position - 1, maxCount: 1 });
    return event !== undefined && event.position === position && event.id === eventId;
  }
}

/** The last event of the log, found in O(log n) one-event reads: the port has no "head" call. */
async function headOf(store: EventStore): Promise<RecordedEvent | undefined> {
  const after = async (position: number): Promise<RecordedEvent | undefined> =>
    (await store.readAll({ after: position, maxCount: 1 }))[0];
  if ((await after(0)) === undefined) return undefined;
  let low = 0;
  let high = 1;
  while ((await after(high)) !== undefined) {
    low = high;
    high *= 2;
  }
  // Something lies after `low` and nothing after `high`.
  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2);
    if ((await after(middle)) !== undefined) low = middle;
    else high = middle;
  }
  return after(low);
}
