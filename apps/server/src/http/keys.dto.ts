import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsArray, IsIn, IsISO8601, IsOptional, IsString, Matches, MaxLength, ValidateBy } from 'class-validator';
import { TENANT_RULE } from '@orchestron/definitions';
import { groupsProblem, GROUPS_RULE, MAX_GROUPS, ROLES, TENANT } from './auth.ts';
import type { Role } from './auth.ts';
import { decorateProperty } from './decorate.ts';
import { RequestError } from './errors.ts';

const SUBJECT_RULE = '"subject" must be 1 to 63 characters of a-z, A-Z, 0-9, ., _, @ and -';

export class CreateKeyBody {
  declare readonly role: Role;
  declare readonly subject: string;
  declare readonly tenant?: string;
  declare readonly groups?: readonly string[] | null;
  declare readonly expiresAt?: string;
}
decorateProperty(CreateKeyBody, 'role', [
  IsIn(ROLES, { message: `"role" must be one of ${ROLES.join(', ')}` }),
  ApiProperty({ enum: ROLES }),
]);
decorateProperty(CreateKeyBody, 'subject', [
  IsString({ message: SUBJECT_RULE }),
  Matches(/^[A-Za-z0-9._@-]{1,63}$/, { message: SUBJECT_RULE }),
  ApiProperty({
    type: String,
    description: 'who holds the key (a person or a service); recorded as the actor of what it does',
  }),
]);
decorateProperty(CreateKeyBody, 'tenant', [
  IsOptional(),
  Matches(TENANT, { message: `"tenant" must be ${TENANT_RULE}` }),
  ApiPropertyOptional({ type: String, description: 'default: the tenant of the admin key that asks' }),
]);
decorateProperty(CreateKeyBody, 'groups', [
  IsOptional(),
  IsArray({ message: GROUPS_RULE }),
  ApiPropertyOptional({
    type: String,
    isArray: true,
    maxItems: MAX_GROUPS,
    description:
      'groups the key holds: an approval gate assigned to group:<g>, role:<g> or <g> accepts a key holding g (docs/security.md)',
  }),
]);
decorateProperty(CreateKeyBody, 'expiresAt', [
  IsOptional(),
  IsISO8601({ strict: true }, { message: '"expiresAt" must be an ISO 8601 time, e.g. 2027-01-31T00:00:00Z' }),
  ValidateBy({
    name: 'future',
    validator: {
      validate: (v: unknown) => typeof v === 'string' && Date.parse(v) > Date.now(),
      defaultMessage: () => '"expiresAt" must be in the future',
    },
  }),
  ApiPropertyOptional({
    type: String,
    format: 'date-time',
    description: 'after this the key is refused; default never',
  }),
]);

/**
 * The key's groups, each name checked. Here rather than in the DTO's rules: the validation pipe validates an array
 * field by an empty stand-in (it never walks a client's JSON), so class-validator does not see the names.
 */
export function groupsOf(body: CreateKeyBody): readonly string[] {
  const groups = body.groups ?? [];
  const problem = groupsProblem(groups);
  if (problem) throw new RequestError('REQUEST.INVALID', problem, { field: 'groups' });
  return [...new Set(groups)];
}

export class KeyListQuery {
  declare readonly tenant?: string;
}
decorateProperty(KeyListQuery, 'tenant', [
  IsOptional(),
  Matches(TENANT, { message: `"tenant" must be ${TENANT_RULE}` }),
  ApiPropertyOptional({ type: String, description: "one tenant's keys" }),
]);

export class RevokeKeyBody {
  declare readonly reason?: string;
}
decorateProperty(RevokeKeyBody, 'reason', [
  IsOptional(),
  IsString({ message: '"reason" must be a string' }),
  MaxLength(500, { message: '"reason" must be at most 500 characters' }),
  ApiPropertyOptional({ type: String }),
]);
