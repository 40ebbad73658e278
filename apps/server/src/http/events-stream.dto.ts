import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsOptional, IsString, Length, Matches, Min } from 'class-validator';
import { TENANT } from './auth.ts';
import { decorateProperty } from './decorate.ts';
import { toNumber } from './query-fields.ts';
import { MAX_PATH_PARAM_CHARS } from './validation.pipe.ts';

const AFTER_RULE = 'after must be a non-negative integer (the id of an event a stream sent)';

export class EventStreamQuery {
  declare readonly run?: string;
  declare readonly tenant?: string;
  declare readonly after?: number;
}
decorateProperty(EventStreamQuery, 'run', [
  IsOptional(),
  IsString({ message: 'run must be a run id' }),
  Length(1, MAX_PATH_PARAM_CHARS, { message: `run must be a run id of 1 to ${MAX_PATH_PARAM_CHARS} characters` }),
  ApiPropertyOptional({ type: String, description: "only this run's events" }),
]);
decorateProperty(EventStreamQuery, 'tenant', [
  IsOptional(),
  Matches(TENANT, { message: '"tenant" must be a tenant id (a-z, 0-9 and -, starting with a letter)' }),
  ApiPropertyOptional({ type: String, description: 'admin only: one tenant (default: every tenant)' }),
]);
decorateProperty(EventStreamQuery, 'after', [
  Transform(toNumber),
  IsOptional(),
  IsInt({ message: AFTER_RULE }),
  Min(0, { message: AFTER_RULE }),
  ApiPropertyOptional({
    type: 'integer',
    minimum: 0,
    description: 'start past this position, as Last-Event-ID does (which wins when both are sent)',
  }),
]);
