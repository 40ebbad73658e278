/** Query-string fields many list routes share: numbers arrive as text, and `limit` has one rule and one message. */
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import type { TransformFnParams } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

/** A query value as a number: absent stays absent, anything that is not a number becomes NaN (and fails IsInt). */
export const toNumber = ({ value }: TransformFnParams): unknown =>
  value === undefined ? undefined : typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN;

/**
 * The decorators of an optional integer query field from `min` to `max`, one message naming the field and the range
 * for every way it can be wrong; `api` adds to its OpenAPI entry (a default, a description).
 */
export function intQueryField(
  field: string,
  min: number,
  max: number,
  api: { readonly default?: number; readonly description?: string } = {},
): PropertyDecorator[] {
  const rule = `${field} must be an integer from ${min} to ${max}`;
  return [
    Transform(toNumber),
    IsOptional(),
    IsInt({ message: rule }),
    Min(min, { message: rule }),
    Max(max, { message: rule }),
    ApiPropertyOptional({ type: 'integer', minimum: min, maximum: max, ...api }),
  ];
}

/** The decorators of an optional `limit` from 1 to `max` (the route's default is `fallback`). */
export function limitField(max: number, fallback = 100): PropertyDecorator[] {
  return intQueryField('limit', 1, max, { default: fallback });
}
