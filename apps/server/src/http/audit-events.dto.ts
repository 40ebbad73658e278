import { ApiPropertyOptional } from '@nestjs/swagger';
import { MAX_AUDIT_PAGE } from '@orchestron/event-store';
import { TENANT_RULE } from '@orchestron/definitions';
import { IsOptional, IsString, Length, Matches } from 'class-validator';
import { TENANT } from './auth.ts';
import { decorateProperty } from './decorate.ts';
import { limitField } from './query-fields.ts';

/** What the audit index accepts (@orchestron/event-store's normalizeInstant): a date, or a date-time with a zone. */
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;

/** GET /v1/audit/events: every filter is optional; together they narrow. */
export class AuditEventsQuery {
  declare readonly tenant?: string;
  declare readonly run?: string;
  declare readonly definition?: string;
  declare readonly actor?: string;
  declare readonly type?: string;
  declare readonly step?: string;
  declare readonly policy?: string;
  declare readonly since?: string;
  declare readonly until?: string;
  declare readonly cursor?: string;
  declare readonly limit?: number;
}

decorateProperty(AuditEventsQuery, 'tenant', [
  IsOptional(),
  Matches(TENANT, { message: `"tenant" must be ${TENANT_RULE}` }),
  ApiPropertyOptional({
    type: String,
    description: 'admin only: one tenant (default: every tenant); others see their own',
  }),
]);

const LABELS = [
  ['run', 'a run id: its events'],
  ['definition', 'a definition id: events of its runs'],
  ['actor', 'who acted, as events record it (role:subject, e.g. operator:ann)'],
  ['type', 'an event type, e.g. StepApproved'],
  ['step', 'a step id'],
  ['policy', 'a governance policy id: the decisions it took'],
] as const;
for (const [field, description] of LABELS)
  decorateProperty(AuditEventsQuery, field, [
    IsOptional(),
    IsString({ message: `"${field}" must be a string of 1 to 200 characters` }),
    Length(1, 200, { message: `"${field}" must be a string of 1 to 200 characters` }),
    ApiPropertyOptional({ type: String, description }),
  ]);

for (const [field, description] of [
  ['since', 'events recorded at or after this ISO-8601 instant'],
  ['until', 'events recorded before this ISO-8601 instant'],
] as const)
  decorateProperty(AuditEventsQuery, field, [
    IsOptional(),
    Matches(ISO_INSTANT, {
      message: `"${field}" must be an ISO-8601 date or date-time with a zone, e.g. 2025-01-31T12:00:00Z`,
    }),
    ApiPropertyOptional({ type: String, format: 'date-time', description }),
  ]);

decorateProperty(AuditEventsQuery, 'cursor', [
  IsOptional(),
  IsString({ message: '"cursor" must be the next_cursor of the page before' }),
  Length(1, 200, { message: '"cursor" must be the next_cursor of the page before' }),
  ApiPropertyOptional({ type: String, description: 'the next_cursor of the page before, with the same filters' }),
]);

decorateProperty(AuditEventsQuery, 'limit', limitField(MAX_AUDIT_PAGE));
