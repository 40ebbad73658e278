import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { DEFAULT_WAIT_MS, MAX_WAIT_MS } from '@orchestron/runtime';
import type { RunStatus } from '@orchestron/workflow-core';
import { RUN_STATUSES } from '@orchestron/workflow-core';
import { Transform } from 'class-transformer';
import { identifierProblem, isIdentifier, quoteForMessage } from '@orchestron/definitions';
import type { Budget } from '@orchestron/definitions';
import {
  Allow,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Length,
  Matches,
  MaxLength,
  Min,
  ValidateBy,
  ValidateIf,
} from 'class-validator';
import type { ValidationArguments } from 'class-validator';
import { TENANT } from './auth.ts';
import { decorateProperty } from './decorate.ts';
import { intQueryField, limitField, toNumber } from './query-fields.ts';
import { anyJson } from './openapi.ts';
import { BudgetField } from './budget.dto.ts';
import { MAX_PATH_PARAM_CHARS } from './validation.pipe.ts';

/*
 * Request DTOs. Fields are `declare`d so an instance carries exactly the keys the client sent: "output": null
 * and no "output" at all are different requests for `skip`. Free-form JSON (a definition, a run's input, a
 * step's output) is allowed through unvalidated: the definition schema and the definition's own input schema
 * judge it further in, with errors that name the path.
 */

export { RUN_STATUSES };
export const ACTIONS = [
  'approve',
  'reject',
  'pause',
  'resume',
  'retry',
  'skip',
  'compensate',
  'cancel',
  'redrive',
  'raise-budget',
] as const;
export type Action = (typeof ACTIONS)[number];

/** An id the API looks up (definition, step): the definitions' identifier rule, stated in the message with at most 80 characters of the value. */
const IsIdentifierField = (field: string, message?: (args: ValidationArguments) => string): PropertyDecorator =>
  ValidateBy({
    name: 'isIdentifier',
    validator: {
      validate: isIdentifier,
      defaultMessage: (args) => (args && message ? message(args) : (identifierProblem(field, args?.value) ?? '')),
    },
  });
const present =
  (field: string) =>
  (o: object): boolean =>
    (o as Record<string, unknown>)[field] !== undefined;
/** Query values arrive as strings; an absent one stays absent and anything else must read as a number. */

export class StartRunBody {
  declare readonly definition?: unknown;
  declare readonly definitionId?: string;
  declare readonly definitionVersion?: number | 'latest';
  declare readonly input?: unknown;
  declare readonly idempotencyKey?: string;
  declare readonly budget?: Budget;
}
decorateProperty(
  StartRunBody,
  'budget',
  BudgetField("what the run's agents may spend; overrides the definition's budget"),
);
decorateProperty(StartRunBody, 'definition', [
  Allow(),
  ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: 'an inline definition (see /v1/schemas/definition.json); registered first. Give this or definitionId.',
  }),
]);
decorateProperty(StartRunBody, 'definitionId', [
  ValidateIf((o: StartRunBody) => o.definition === undefined || o.definitionId !== undefined),
  IsIdentifierField('definitionId', (args) =>
    (args.object as StartRunBody).definitionId === undefined
      ? 'give "definition" (inline) or "definitionId"'
      : (identifierProblem('definitionId', args.value) ?? ''),
  ),
  ApiPropertyOptional({ type: String, description: 'a registered definition. Give this or definition.' }),
]);
const VERSION_RULE = '"definitionVersion" must be "latest" or a version number (a positive integer)';
decorateProperty(StartRunBody, 'definitionVersion', [
  ValidateIf(present('definitionVersion')),
  ValidateBy({
    name: 'versionChoice',
    validator: {
      validate: (v: unknown) => v === 'latest' || (Number.isSafeInteger(v) && (v as number) >= 1),
      defaultMessage: () => VERSION_RULE,
    },
  }),
  ApiPropertyOptional({
    ...anyJson('with definitionId: "latest" (the default) or a version number; the run records the one it got'),
    oneOf: [
      { type: 'integer', minimum: 1 },
      { type: 'string', enum: ['latest'] },
    ],
  }),
]);
decorateProperty(StartRunBody, 'input', [
  Allow(),
  ApiPropertyOptional(anyJson("the run's input, checked against the definition's input schema (default null)")),
]);
decorateProperty(StartRunBody, 'idempotencyKey', [
  ValidateIf(present('idempotencyKey')),
  IsString({ message: '"idempotencyKey" must be a string of 1 to 200 characters' }),
  Length(1, 200, { message: '"idempotencyKey" must be a string of 1 to 200 characters' }),
  ApiPropertyOptional({
    type: String,
    minLength: 1,
    maxLength: 200,
    description: 'the same key and input return the existing run (200) instead of starting another',
  }),
]);

const TENANT_QUERY = '"tenant" must be a tenant id (a-z, 0-9 and -, starting with a letter, at most 63 characters)';
const tenantQuery = [
  IsOptional(),
  Matches(TENANT, { message: TENANT_QUERY }),
  ApiPropertyOptional({
    type: String,
    description: 'admin only: one tenant (default: every tenant); other roles see their own',
  }),
];

export class ListRunsQuery {
  declare readonly tenant?: string;
  declare readonly status?: RunStatus;
  declare readonly definition?: string;
  declare readonly limit?: number;
  declare readonly cursor?: string;
  declare readonly idempotencyKey?: string;
}
decorateProperty(ListRunsQuery, 'tenant', tenantQuery);
decorateProperty(ListRunsQuery, 'cursor', [
  IsOptional(),
  Matches(/^[1-9]\d{0,15}$/, { message: '"cursor" must be the nextCursor of a previous page' }),
  ApiPropertyOptional({ type: String, description: "the previous page's nextCursor: the runs after it" }),
]);
decorateProperty(ListRunsQuery, 'idempotencyKey', [
  IsOptional(),
  IsString({ message: '"idempotencyKey" must be a string of 1 to 200 characters' }),
  Length(1, 200, { message: '"idempotencyKey" must be a string of 1 to 200 characters' }),
  ApiPropertyOptional({ type: String, description: 'the run (one per definition) started with this idempotency key' }),
]);
decorateProperty(ListRunsQuery, 'status', [
  IsOptional(),
  IsIn(RUN_STATUSES, { message: `status must be one of ${RUN_STATUSES.join(', ')}` }),
  ApiPropertyOptional({ enum: RUN_STATUSES }),
]);
decorateProperty(ListRunsQuery, 'definition', [
  IsOptional(),
  IsIdentifierField('definition'),
  ApiPropertyOptional({ type: String, description: 'a definition id' }),
]);
decorateProperty(ListRunsQuery, 'limit', limitField(10_000));

/** POST /v1/runs?waitMs=: answer once the started run has ended, or when waitMs is up. */
export class StartQuery {
  declare readonly waitMs?: number;
}
decorateProperty(
  StartQuery,
  'waitMs',
  intQueryField('waitMs', 0, MAX_WAIT_MS, {
    description:
      "wait up to this long for the started run to end; the answer then carries `wait` as GET /v1/runs/{id}/wait's does",
  }),
);

export class WaitQuery {
  declare readonly timeoutMs?: number;
  declare readonly after?: number;
}
decorateProperty(WaitQuery, 'timeoutMs', intQueryField('timeoutMs', 0, MAX_WAIT_MS, { default: DEFAULT_WAIT_MS }));
decorateProperty(WaitQuery, 'after', [
  Transform(toNumber),
  IsOptional(),
  IsInt({ message: 'after must be a non-negative integer (a position from an earlier wait)' }),
  Min(0, { message: 'after must be a non-negative integer (a position from an earlier wait)' }),
  ApiPropertyOptional({
    type: 'integer',
    minimum: 0,
    description:
      "return at the run's first change past this position (the `wait.position` of an earlier answer) instead of at its end",
  }),
]);

export class RunQuery {
  declare readonly at?: string;
}
decorateProperty(RunQuery, 'at', [
  IsOptional(),
  IsString({ message: 'at must be a revision or an ISO 8601 time, given once' }),
  MaxLength(64, { message: 'at must be at most 64 characters' }),
  ApiPropertyOptional({
    type: 'string',
    description:
      'time travel: the run as it was after this revision (0 is the first event), or after the last event recorded by this ISO 8601 time. The answer is read-only and carries `at`.',
    examples: ['3', '2026-12-06T10:00:00Z'],
  }),
]);

export class DefinitionQuery {
  declare readonly version?: number;
  declare readonly tenant?: string;
}
decorateProperty(DefinitionQuery, 'tenant', tenantQuery);
decorateProperty(DefinitionQuery, 'version', [
  Transform(toNumber),
  IsOptional(),
  IsInt({ message: '"version" must be a positive integer' }),
  Min(1, { message: '"version" must be a positive integer' }),
  ApiPropertyOptional({ type: 'integer', minimum: 1, description: 'default: the latest version' }),
]);

export class DefinitionParams {
  declare readonly id: string;
}
decorateProperty(DefinitionParams, 'id', [
  IsIdentifierField('id'),
  ApiProperty({ type: String, description: 'the definition id' }),
]);

export class RunActionParams {
  declare readonly id: string;
  declare readonly action: Action;
}
decorateProperty(RunActionParams, 'id', [
  IsString(),
  Length(1, MAX_PATH_PARAM_CHARS, {
    message: (args: ValidationArguments) =>
      `path parameter "id" must be 1 to ${MAX_PATH_PARAM_CHARS} characters; got ${quoteForMessage(String(args.value))}`,
  }),
  ApiProperty({ type: String, description: 'the run id' }),
]);
decorateProperty(RunActionParams, 'action', [
  IsIn(ACTIONS, {
    message: (args: ValidationArguments) =>
      `unknown action ${quoteForMessage(String(args.value))}; use one of ${ACTIONS.join(', ')}`,
  }),
  ApiProperty({ enum: ACTIONS }),
]);

export class RunActionBody {
  declare readonly stepId?: string;
  declare readonly reason?: string | null;
  declare readonly input?: unknown;
  declare readonly output?: unknown;
  declare readonly budget?: Budget;
}
decorateProperty(RunActionBody, 'budget', BudgetField('raise-budget (required): the new budget'));
decorateProperty(RunActionBody, 'stepId', [
  ValidateIf(present('stepId')),
  IsIdentifierField('stepId', (args) =>
    typeof args.value === 'string' ? (identifierProblem('stepId', args.value) ?? '') : '"stepId" must be a string',
  ),
  ApiPropertyOptional({ type: String, description: 'required by approve, reject, retry, skip and redrive' }),
]);
decorateProperty(RunActionBody, 'reason', [
  IsOptional(),
  IsString({ message: '"reason" must be a string' }),
  ApiPropertyOptional({ type: String, nullable: true, description: 'recorded with the action; required by redrive' }),
]);
decorateProperty(RunActionBody, 'input', [
  Allow(),
  ApiPropertyOptional(anyJson("retry, redrive: the step's edited input")),
]);
decorateProperty(RunActionBody, 'output', [
  Allow(),
  ApiPropertyOptional(anyJson('skip (required): the output the skipped step would have produced, null for none')),
]);
