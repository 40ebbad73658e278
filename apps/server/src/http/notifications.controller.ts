import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { DeliveryQuery, DeliveryRecord } from '@orchestron/notifications';
import { errorContract } from './agent-contract.ts';
import type { AgentContract } from './agent-contract.ts';
import { errorResponses } from './api-models.ts';
import { tenantScope } from './auth.ts';
import type { Principal } from './auth.ts';
import { Caller, HISTORY_READERS, Roles } from './auth.guard.ts';
import { decorateClass, decorateMethod, injectByToken } from './decorate.ts';
import { ListNotificationsQuery } from './notifications.dto.ts';

/** Where the webhook deliveries are read from: the notifications lib's DeliveryLog over the store's read rows. */
export interface DeliveryReader {
  list(query: DeliveryQuery): Promise<DeliveryRecord[]>;
}

/** The deliveries of a store that keeps no read rows: there are none. */
export const NO_DELIVERIES: DeliveryReader = { list: async () => [] };

export const DELIVERY_READER = Symbol('DELIVERY_READER');

/** A delivery as the API shows it: what was sent where, and how each attempt went. Never a secret. */
export interface DeliveryView {
  readonly id: string;
  readonly endpoint: string;
  readonly webhookId: string;
  readonly type: string;
  readonly runId: string;
  readonly tenant: string;
  readonly stepId: string | null;
  readonly code: string | null;
  readonly status: string;
  readonly attempts: number;
  readonly lastStatus: number | null;
  readonly lastError: string | null;
  readonly lastAttemptAt: string | null;
  readonly nextAttemptAt: string | null;
  readonly createdAt: string;
  readonly deliveredAt: string | null;
  readonly eventId: string;
  readonly position: number;
}

/** Webhook deliveries (docs/operators.md, "Webhooks"): operators, auditors and admins, tenant-scoped. */
export class NotificationsController {
  readonly #deliveries: DeliveryReader;

  constructor(deliveries: DeliveryReader) {
    this.#deliveries = deliveries;
  }

  async list(
    query: ListNotificationsQuery,
    caller: Principal,
  ): Promise<{ deliveries: DeliveryView[]; agent_contract: AgentContract }> {
    const tenant = tenantScope(caller, query.tenant);
    const records = await this.#deliveries.list({
      ...(tenant !== undefined ? { tenant } : {}),
      ...(query.run !== undefined ? { runId: query.run } : {}),
      ...(query.status !== undefined ? { status: query.status } : {}),
      limit: query.limit ?? 100,
    });
    return { deliveries: records.map(viewOf), agent_contract: errorContract(false) };
  }
}

function viewOf(record: DeliveryRecord): DeliveryView {
  const { type, data } = record.notification;
  return {
    id: record.id,
    endpoint: record.endpoint,
    webhookId: record.webhookId,
    type,
    runId: data.runId,
    tenant: data.tenant,
    stepId: data.stepId,
    code: data.code,
    status: record.status,
    attempts: record.attempts,
    lastStatus: record.lastStatus,
    lastError: record.lastError,
    lastAttemptAt: record.lastAttemptAt,
    nextAttemptAt: record.nextAttemptAt,
    createdAt: record.createdAt,
    deliveredAt: record.deliveredAt,
    eventId: data.eventId,
    position: data.position,
  };
}

injectByToken(NotificationsController, [DELIVERY_READER]);
decorateClass(NotificationsController, [
  Controller('v1/notifications'),
  ApiTags('notifications'),
  ApiBearerAuth(),
  ...errorResponses(400, 401, 403),
]);
decorateMethod(
  NotificationsController,
  'list',
  [
    Get(),
    Roles(...HISTORY_READERS),
    ApiOperation({
      summary: 'webhook deliveries, newest event first',
      description:
        '?run=&status=pending|delivered|failed&limit=; each with its attempts, last HTTP status, last error and next attempt time',
    }),
    ApiResponse({ status: 200, description: 'the deliveries', schema: { type: 'object' } }),
  ],
  [{ decorator: Query(), type: ListNotificationsQuery }, { decorator: Caller() }],
);
