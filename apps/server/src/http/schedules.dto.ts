import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { isIdentifier, MAX_CRON_LENGTH, MAX_TIMEZONE_LENGTH } from '@orchestron/definitions';
import { MAX_SCHEDULE_INPUT_BYTES, SCHEDULE_ID, SCHEDULE_ID_RULE } from '@orchestron/runtime';
import { CATCH_UP_POLICIES, MAX_CATCH_UP, OVERLAP_POLICIES } from '@orchestron/workflow-core';
import type { CatchUpPolicy, OverlapPolicy } from '@orchestron/workflow-core';
import {
  Allow,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateBy,
} from 'class-validator';
import { TENANT } from './auth.ts';
import { decorateProperty } from './decorate.ts';
import { anyJson } from './openapi.ts';

const TENANT_RULE = '"tenant" must be a tenant id (a-z, 0-9 and -, starting with a letter)';
const tenantField = (description: string): PropertyDecorator[] => [
  IsOptional(),
  Matches(TENANT, { message: TENANT_RULE }),
  ApiPropertyOptional({ type: String, description }),
];

/** POST /v1/schedules. The cron rule and time zone are judged by the schedule decider (croner), naming the field. */
export class CreateScheduleBody {
  declare readonly id: string;
  declare readonly definitionId: string;
  declare readonly definitionVersion?: number;
  declare readonly cron: string;
  declare readonly timezone: string;
  declare readonly input?: unknown;
  declare readonly overlap?: OverlapPolicy;
  declare readonly catchUp?: CatchUpPolicy;
  declare readonly maxCatchUp?: number;
  declare readonly tenant?: string;
}

decorateProperty(CreateScheduleBody, 'id', [
  IsString({ message: SCHEDULE_ID_RULE }),
  Matches(SCHEDULE_ID, { message: SCHEDULE_ID_RULE }),
  ApiProperty({ type: String, pattern: SCHEDULE_ID.source, description: 'unique in the tenant: nightly-report' }),
]);
decorateProperty(CreateScheduleBody, 'definitionId', [
  ValidateBy({
    name: 'isIdentifier',
    validator: {
      validate: isIdentifier,
      defaultMessage: () => '"definitionId" must be the id of a registered definition',
    },
  }),
  ApiProperty({ type: String, description: 'the definition each fire starts a run of' }),
]);
decorateProperty(CreateScheduleBody, 'definitionVersion', [
  IsOptional(),
  IsInt({ message: '"definitionVersion" must be a positive integer' }),
  Min(1, { message: '"definitionVersion" must be a positive integer' }),
  ApiPropertyOptional({ type: 'integer', minimum: 1, description: 'default: the latest version at each fire' }),
]);
decorateProperty(CreateScheduleBody, 'cron', [
  IsString({ message: `"cron" must be a cron expression of 1 to ${MAX_CRON_LENGTH} characters` }),
  Length(1, MAX_CRON_LENGTH, { message: `"cron" must be a cron expression of 1 to ${MAX_CRON_LENGTH} characters` }),
  ApiProperty({
    type: String,
    maxLength: MAX_CRON_LENGTH,
    description: '5 fields (minute hour day-of-month month day-of-week), or 6 with seconds first, or @hourly, @daily…',
    example: '0 9 * * 1-5',
  }),
]);
decorateProperty(CreateScheduleBody, 'timezone', [
  IsString({ message: '"timezone" must be an IANA time zone such as Europe/Paris or UTC' }),
  MaxLength(MAX_TIMEZONE_LENGTH, { message: `"timezone" must be at most ${MAX_TIMEZONE_LENGTH} characters` }),
  ApiProperty({ type: String, description: 'the IANA time zone the cron fields are read in', example: 'Europe/Paris' }),
]);
decorateProperty(CreateScheduleBody, 'input', [
  Allow(),
  ApiPropertyOptional(
    anyJson(`the input of every run it starts (default null; at most ${MAX_SCHEDULE_INPUT_BYTES} bytes)`),
  ),
]);
decorateProperty(CreateScheduleBody, 'overlap', [
  IsOptional(),
  IsIn([...OVERLAP_POLICIES], { message: `"overlap" must be one of ${OVERLAP_POLICIES.join(', ')}` }),
  ApiPropertyOptional({
    enum: [...OVERLAP_POLICIES],
    description:
      "while the last fire's run still runs: skip the fire (default), keep one to run after it, or run anyway",
  }),
]);
decorateProperty(CreateScheduleBody, 'catchUp', [
  IsOptional(),
  IsIn([...CATCH_UP_POLICIES], { message: `"catchUp" must be one of ${CATCH_UP_POLICIES.join(', ')}` }),
  ApiPropertyOptional({
    enum: [...CATCH_UP_POLICIES],
    description: 'fires missed while nothing ran the schedule: none, the newest one (latest, the default), or all',
  }),
]);
decorateProperty(CreateScheduleBody, 'maxCatchUp', [
  IsOptional(),
  IsInt({ message: `"maxCatchUp" must be an integer from 1 to ${MAX_CATCH_UP}` }),
  Min(1, { message: `"maxCatchUp" must be an integer from 1 to ${MAX_CATCH_UP}` }),
  Max(MAX_CATCH_UP, { message: `"maxCatchUp" must be an integer from 1 to ${MAX_CATCH_UP}` }),
  ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    maximum: MAX_CATCH_UP,
    description: 'with catchUp: all (default 10)',
  }),
]);
decorateProperty(
  CreateScheduleBody,
  'tenant',
  tenantField("admin only: create it in another tenant (default: the key's)"),
);

/** The path of one schedule. */
export class ScheduleParams {
  declare readonly id: string;
}
decorateProperty(ScheduleParams, 'id', [
  IsString({ message: SCHEDULE_ID_RULE }),
  Matches(SCHEDULE_ID, { message: SCHEDULE_ID_RULE }),
  ApiProperty({ type: String, description: 'the schedule id' }),
]);

export class ScheduleQuery {
  declare readonly tenant?: string;
}
decorateProperty(
  ScheduleQuery,
  'tenant',
  tenantField("admin only: another tenant's schedule(s) (list default: every tenant)"),
);

export class PauseScheduleBody {
  declare readonly reason?: string;
}
decorateProperty(PauseScheduleBody, 'reason', [
  IsOptional(),
  IsString({ message: '"reason" must be a string of at most 500 characters' }),
  MaxLength(500, { message: '"reason" must be a string of at most 500 characters' }),
  ApiPropertyOptional({ type: String, description: 'why, recorded in the schedule stream' }),
]);
