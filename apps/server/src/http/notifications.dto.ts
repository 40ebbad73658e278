import { ApiPropertyOptional } from '@nestjs/swagger';
import { DELIVERY_STATUSES } from '@orchestron/notifications';
import type { DeliveryStatus } from '@orchestron/notifications';
import { TENANT_RULE } from '@orchestron/definitions';
import { IsIn, IsOptional, IsString, Length, Matches } from 'class-validator';
import { TENANT } from './auth.ts';
import { decorateProperty } from './decorate.ts';
import { limitField } from './query-fields.ts';

export class ListNotificationsQuery {
  declare readonly tenant?: string;
  declare readonly run?: string;
  declare readonly status?: DeliveryStatus;
  declare readonly limit?: number;
}
decorateProperty(ListNotificationsQuery, 'tenant', [
  IsOptional(),
  Matches(TENANT, { message: `"tenant" must be ${TENANT_RULE}` }),
  ApiPropertyOptional({
    type: String,
    description: 'admin only: one tenant (default: every tenant); others see their own',
  }),
]);
decorateProperty(ListNotificationsQuery, 'run', [
  IsOptional(),
  IsString({ message: '"run" must be a run id' }),
  Length(1, 200, { message: '"run" must be a run id of 1 to 200 characters' }),
  ApiPropertyOptional({ type: String, description: "one run's deliveries" }),
]);
decorateProperty(ListNotificationsQuery, 'status', [
  IsOptional(),
  IsIn(DELIVERY_STATUSES, { message: `"status" must be one of ${DELIVERY_STATUSES.join(', ')}` }),
  ApiPropertyOptional({ enum: DELIVERY_STATUSES }),
]);
decorateProperty(ListNotificationsQuery, 'limit', limitField(1_000));
