import { ApiPropertyOptional } from '@nestjs/swagger';
import { TENANT_RULE } from '@orchestron/definitions';
import { Transform } from 'class-transformer';
import type { TransformFnParams } from 'class-transformer';
import { IsInt, IsOptional, Matches, Max, Min } from 'class-validator';
import { TENANT } from './auth.ts';
import { decorateProperty } from './decorate.ts';

const LIMIT_RULE = 'limit must be an integer from 1 to 1000';
const toNumber = ({ value }: TransformFnParams): unknown =>
  value === undefined ? undefined : typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN;

export class ListLocksQuery {
  declare readonly tenant?: string;
  declare readonly limit?: number;
}
decorateProperty(ListLocksQuery, 'tenant', [
  IsOptional(),
  Matches(TENANT, { message: `"tenant" must be ${TENANT_RULE}` }),
  ApiPropertyOptional({ type: String, description: 'admin only: one tenant (default: every tenant)' }),
]);
decorateProperty(ListLocksQuery, 'limit', [
  Transform(toNumber),
  IsOptional(),
  IsInt({ message: LIMIT_RULE }),
  Min(1, { message: LIMIT_RULE }),
  Max(1_000, { message: LIMIT_RULE }),
  ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 1_000, default: 100 }),
]);
