import { createHash } from 'node:crypto';
import { MAX_READ_ROWS_PER_LIST } from '@orchestron/event-store';
import type { ReadRow, ReadRowStore } from '@orchestron/event-store';
import type { Notification } from './notification-types.ts';

/** The read-row table the deliveries live in, beside the log. */
export const DELIVERY_TABLE = 'webhook-deliveries';
export const DELIVERY_STATUSES = ['pending', 'delivered', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** One notification to one endpoint, and how sending it went. Times are ISO-8601. */
export interface DeliveryRecord {
  /** `<endpoint id>:<event id>`: one record per endpoint and event, which is what de-duplicates. */
  readonly id: string;
  readonly endpoint: string;
  /** The `webhook-id` header, the same on every attempt, derived from the event id: receivers de-duplicate by it. */
  readonly webhookId: string;
  readonly status: DeliveryStatus;
  readonly notification: Notification;
  readonly attempts: number;
  /** The HTTP status of the last attempt; null when it got no answer. */
  readonly lastStatus: number | null;
  readonly lastError: string | null;
  readonly lastAttemptAt: string | null;
  /** When the next attempt is due; null once the record is delivered or failed. */
  readonly nextAttemptAt: string | null;
  readonly createdAt: string;
  readonly deliveredAt: string | null;
}

export interface DeliveryQuery {
  readonly tenant?: string;
  readonly runId?: string;
  readonly status?: DeliveryStatus;
  readonly limit: number;
}

/** The `webhook-id` of an event's notification: stable across attempts, restarts and processes. */
export function webhookIdOf(eventId: string): string {
  return `msg_${createHash('sha256').update(eventId).digest('base64url').slice(0, 32)}`;
}

export function deliveryIdOf(endpointId: string, eventId: string): string {
  const id = `${endpointId}:${eventId}`;
  return id.length <= 200 ? id : `${endpointId}:${webhookIdOf(eventId)}`;
}

/** A new record, due now. */
export function pendingDelivery(endpointId: string, notification: Notification, now: number): DeliveryRecord {
  const at = new Date(now).toISOString();
  return {
    id: deliveryIdOf(endpointId, notification.data.eventId),
    endpoint: endpointId,
    webhookId: webhookIdOf(notification.data.eventId),
    status: 'pending',
    notification,
    attempts: 0,
    lastStatus: null,
    lastError: null,
    lastAttemptAt: null,
    nextAttemptAt: at,
    createdAt: at,
    deliveredAt: null,
  };
}

/**
 * Delivery records as read rows: labelled by the run's tenant, the status and (as `kind`) the run id, at the
 * event's position. A record keeps its position as it changes, and a put at the same position replaces the row.
 */
export class DeliveryLog {
  readonly #rows: ReadRowStore;

  constructor(rows: ReadRowStore) {
    this.#rows = rows;
  }

  async get(id: string): Promise<DeliveryRecord | undefined> {
    const row = await this.#rows.get(DELIVERY_TABLE, id);
    return row === undefined ? undefined : recordOf(row);
  }

  async save(record: DeliveryRecord): Promise<void> {
    await this.#rows.put(DELIVERY_TABLE, [rowOf(record)]);
  }

  /** Newest event first. */
  async list(query: DeliveryQuery): Promise<DeliveryRecord[]> {
    const rows = await this.#rows.list(DELIVERY_TABLE, {
      ...(query.tenant !== undefined ? { tenant: query.tenant } : {}),
      ...(query.status !== undefined ? { status: query.status } : {}),
      ...(query.runId !== undefined ? { kind: query.runId } : {}),
      limit: query.limit,
    });
    return rows.map(recordOf);
  }

  /** Every pending record, page by page. */
  async pending(): Promise<DeliveryRecord[]> {
    const out: DeliveryRecord[] = [];
    let before: number | undefined;
    for (;;) {
      const page = await this.#rows.list(DELIVERY_TABLE, {
        status: 'pending',
        limit: MAX_READ_ROWS_PER_LIST,
        ...(before !== undefined ? { beforePosition: before } : {}),
      });
      out.push(...page.map(recordOf));
      const last = page.at(-1);
      // Rows of one event (one per endpoint) share a position: a full page may end inside such a group.
      if (page.length < MAX_READ_ROWS_PER_LIST || last === undefined) return dedupe(out);
      before = last.position + 1 === before ? last.position : last.position + 1;
    }
  }
}

function dedupe(records: readonly DeliveryRecord[]): DeliveryRecord[] {
  return [...new Map(records.map((record) => [record.id, record])).values()];
}

function rowOf(record: DeliveryRecord): ReadRow {
  const { data } = record.notification;
  return {
    id: record.id,
    position: data.position,
    tenant: data.tenant,
    status: record.status,
    kind: data.runId,
    body: JSON.stringify(record),
  };
}

function recordOf(row: ReadRow): DeliveryRecord {
  return JSON.parse(row.body) as DeliveryRecord;
}
