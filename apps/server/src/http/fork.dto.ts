import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Allow, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { decorateProperty } from './decorate.ts';
import { anyJson } from './openapi.ts';

/** POST /v1/runs/:id/fork. `input` absent keeps the parent's; present (null included) replaces it. */
export class ForkBody {
  declare readonly at: number;
  declare readonly input?: unknown;
  declare readonly reason?: string;
}
const AT_RULE = '"at" must be a revision of the run: an integer from 0 (its first event)';
decorateProperty(ForkBody, 'at', [
  IsInt({ message: AT_RULE }),
  Min(0, { message: AT_RULE }),
  Max(Number.MAX_SAFE_INTEGER, { message: AT_RULE }),
  ApiProperty({
    type: 'integer',
    minimum: 0,
    description:
      "the revision of the parent's history the fork starts from (0 is its first event; GET /v1/runs/:id?at= shows the run there)",
  }),
]);
decorateProperty(ForkBody, 'input', [
  Allow(),
  ApiPropertyOptional(
    anyJson("the fork's run input, checked against the definition's input schema; absent: the parent's"),
  ),
]);
decorateProperty(ForkBody, 'reason', [
  IsOptional(),
  IsString({ message: '"reason" must be a string' }),
  MaxLength(1_000, { message: '"reason" must be at most 1000 characters' }),
  ApiPropertyOptional({ type: String, description: "why; recorded on the fork's first event" }),
]);
