/** Query-string fields many list routes share: numbers arrive as text, and `limit` has one rule and one message. */
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import type { TransformFnParams } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

/** A query value as a number: absent stays absent, anything that is not a number becomes NaN (and fails IsInt). */
export const toNumber = ({ value }: TransformFnParams): unknown =>
  value === undefined ? undefined : typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN;

/** The decorators of an optional `limit` from 1 to `max` (the route's default is `fallback`). */
export function limitField(max: number, fallback = 100): PropertyDecorator[] {
  const rule = `limit must be an integer from 1 to ${max}`;
  return [
    Transform(toNumber),
    IsOptional(),
    IsInt({ message: rule }),
    Min(1, { message: rule }),
    Max(max, { message: rule }),
    ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: max, default: fallback }),
  ];
}
