import { ApiPropertyOptional } from '@nestjs/swagger';
import { TENANT_RULE } from '@orchestron/definitions';
import { IsOptional, Matches } from 'class-validator';
import { TENANT } from './auth.ts';
import { decorateProperty } from './decorate.ts';
import { limitField } from './query-fields.ts';

export class ListLocksQuery {
  declare readonly tenant?: string;
  declare readonly limit?: number;
}
decorateProperty(ListLocksQuery, 'tenant', [
  IsOptional(),
  Matches(TENANT, { message: `"tenant" must be ${TENANT_RULE}` }),
  ApiPropertyOptional({ type: String, description: 'admin only: one tenant (default: every tenant)' }),
]);
decorateProperty(ListLocksQuery, 'limit', limitField(1_000));
