import type { Logger } from '@orchestron/telemetry';
import type { DeliveryLog, DeliveryRecord } from './delivery-log.ts';
import { retryDelayMs, RunThrottle } from './delivery-policy.ts';
import type { RetrySchedule, RunLimit } from './delivery-policy.ts';
import type { WebhookEndpoint } from './webhook-config.ts';
import type { AttemptResult } from './webhook-sender.ts';
import { WebhookSender } from './webhook-sender.ts';

export interface DeliveryPumpSettings {
  readonly retry: RetrySchedule;
  readonly runLimit: RunLimit;
  /** How long one attempt may take. */
  readonly timeoutMs: number;
  /** Attempts in flight to one endpoint at most: a slow receiver holds its own slots, never another's. */
  readonly concurrency: number;
  /** How often due records are looked for, besides when one is added or an attempt ends. */
  readonly pollMs: number;
}

export interface DeliveryPumpDeps {
  readonly log: DeliveryLog;
  readonly endpoints: readonly WebhookEndpoint[];
  readonly logger: Logger;
  readonly clock: () => number;
  readonly settings: DeliveryPumpSettings;
}

/**
 * Sends the pending delivery records, off every run's path: each attempt's outcome is saved to the record before
 * the record is looked at again, so a restart goes on from what was saved (an attempt whose outcome was not saved
 * is sent again, with the same webhook-id). Due records are held in memory, loaded from the store at start.
 */
export class DeliveryPump {
  readonly #deps: DeliveryPumpDeps;
  readonly #senders = new Map<string, WebhookSender>();
  readonly #due = new Map<string, DeliveryRecord>();
  readonly #inFlight = new Map<string, Promise<void>>();
  readonly #busy = new Map<string, number>();
  readonly #throttle: RunThrottle;
  readonly #closing = new AbortController();
  #timer: ReturnType<typeof setInterval> | undefined;
  #kicked = false;

  constructor(deps: DeliveryPumpDeps) {
    this.#deps = deps;
    this.#throttle = new RunThrottle(deps.settings.runLimit);
    for (const endpoint of deps.endpoints) this.#senders.set(endpoint.id, new WebhookSender(endpoint));
  }

  async start(): Promise<void> {
    for (const record of await this.#deps.log.pending()) this.#due.set(record.id, record);
    this.#timer = setInterval(() => this.#tick(), this.#deps.settings.pollMs);
    this.#timer.unref();
    this.#kick();
  }

  /** A record the projection just saved. */
  add(record: DeliveryRecord): void {
    if (this.#closing.signal.aborted) return;
    this.#due.set(record.id, record);
    this.#kick();
  }

  /** Stops sending; attempts in flight are aborted and their records stay as saved (pending). */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.#closing.abort();
    await Promise.all(this.#inFlight.values());
  }

  #kick(): void {
    if (this.#kicked) return;
    this.#kicked = true;
    setImmediate(() => {
      this.#kicked = false;
      this.#tick();
    });
  }

  #tick(): void {
    if (this.#closing.signal.aborted) return;
    const now = this.#deps.clock();
    this.#throttle.prune(now);
    for (const record of this.#due.values()) {
      if (this.#inFlight.has(record.id) || Date.parse(record.nextAttemptAt ?? '') > now) continue;
      if ((this.#busy.get(record.endpoint) ?? 0) >= this.#deps.settings.concurrency) continue;
      const sender = this.#senders.get(record.endpoint);
      if (sender === undefined) {
        this.#settle(record, this.#unconfigured(record, now));
        continue;
      }
      const later = record.attempts === 0 ? this.#throttle.admit(throttleKey(record), now) : undefined;
      if (later !== undefined) this.#due.set(record.id, { ...record, nextAttemptAt: new Date(later).toISOString() });
      else this.#settle(record, this.#attempt(sender, record));
    }
  }

  /** Runs one attempt (or a bookkeeping step) on a record, one at a time per record. */
  #settle(record: DeliveryRecord, work: Promise<DeliveryRecord | undefined>): void {
    this.#busy.set(record.endpoint, (this.#busy.get(record.endpoint) ?? 0) + 1);
    const done = work
      .then((next) => (next === undefined ? undefined : this.#save(next)))
      .finally(() => {
        this.#busy.set(record.endpoint, (this.#busy.get(record.endpoint) ?? 1) - 1);
        this.#inFlight.delete(record.id);
        this.#kick();
      });
    this.#inFlight.set(record.id, done);
  }

  async #attempt(sender: WebhookSender, record: DeliveryRecord): Promise<DeliveryRecord | undefined> {
    const started = this.#deps.clock();
    const result = await sender.send({
      webhookId: record.webhookId,
      body: JSON.stringify(record.notification),
      now: new Date(started),
      timeoutMs: this.#deps.settings.timeoutMs,
      signal: this.#closing.signal,
    });
    // Cut short by close(): not an attempt the receiver is to blame for; it goes again after the restart.
    if (this.#closing.signal.aborted && !result.ok) return undefined;
    return this.#after(record, result, this.#deps.clock());
  }

  #after(record: DeliveryRecord, result: AttemptResult, now: number): DeliveryRecord {
    const attempts = record.attempts + 1;
    const at = new Date(now).toISOString();
    const tried = { ...record, attempts, lastStatus: result.status, lastError: result.error, lastAttemptAt: at };
    if (result.ok) return { ...tried, status: 'delivered', nextAttemptAt: null, deliveredAt: at };
    const { retry } = this.#deps.settings;
    const fields = { endpoint: record.endpoint, delivery: record.id, attempts, error: result.error };
    if (attempts >= retry.maxAttempts) {
      this.#deps.logger.warn('webhook delivery failed for good', fields);
      return { ...tried, status: 'failed', nextAttemptAt: null };
    }
    const next = new Date(now + retryDelayMs(attempts, retry)).toISOString();
    this.#deps.logger.info('webhook delivery attempt failed; trying again', { ...fields, nextAttemptAt: next });
    return { ...tried, nextAttemptAt: next };
  }

  async #unconfigured(record: DeliveryRecord, now: number): Promise<DeliveryRecord> {
    const error = `endpoint ${record.endpoint} is no longer configured`;
    return {
      ...record,
      status: 'failed',
      lastError: error,
      nextAttemptAt: null,
      lastAttemptAt: new Date(now).toISOString(),
    };
  }

  async #save(record: DeliveryRecord): Promise<void> {
    try {
      await this.#deps.log.save(record);
    } catch (error) {
      // Memory moves on regardless, so a store that is down causes no storm of attempts. Should the process die
      // first, the stored row is older: the delivery is sent again after the restart (same webhook-id).
      this.#deps.logger.warn('could not save a webhook delivery record', {
        delivery: record.id,
        status: record.status,
        error: error instanceof Error ? error.message : String(error),
      });
    }
    if (record.status === 'pending') this.#due.set(record.id, record);
    else this.#due.delete(record.id);
  }
}

function throttleKey(record: DeliveryRecord): string {
  return `${record.endpoint}\n${record.notification.data.runId}`;
}
