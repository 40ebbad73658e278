import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { AuditFilter, AuditHit, AuditIndexStore } from '@orchestron/event-store';
import { errorContract } from './agent-contract.ts';
import type { AgentContract } from './agent-contract.ts';
import { errorResponses } from './api-models.ts';
import { decodeCursor, encodeCursor } from './audit-cursor.ts';
import { AuditEventsQuery } from './audit-events.dto.ts';
import { tenantScope } from './auth.ts';
import type { Principal } from './auth.ts';
import { Caller, HISTORY_READERS, Roles } from './auth.guard.ts';
import { decorateClass, decorateMethod, injectByToken } from './decorate.ts';
import { RequestError } from './errors.ts';

/** The store's audit index (EventStore.auditIndex), or null when the store keeps none. */
export const AUDIT_EVENTS = Symbol('AUDIT_EVENTS');

const DEFAULT_LIMIT = 100;

/** An event as audit search answers it: the recorded event and what the index lifted out of it. */
export interface AuditEventView {
  readonly position: number;
  readonly runId: string;
  readonly revision: number;
  readonly type: string;
  readonly data: unknown;
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly recordedAt: string;
  readonly id: string;
  readonly tenant: string;
  readonly definitionId: string;
  readonly actor: string | null;
  readonly stepId: string | null;
  readonly policyId: string | null;
}

export interface AuditEventsPage {
  readonly events: AuditEventView[];
  readonly next_cursor: string | null;
  readonly agent_contract: AgentContract;
}

/** Audit search across runs (docs/audit.md, "Audit search"): operators, auditors and admins, tenant-scoped. */
export class AuditEventsController {
  readonly #index: AuditIndexStore | null;

  constructor(index: AuditIndexStore | null) {
    this.#index = index;
  }

  async search(query: AuditEventsQuery, caller: Principal): Promise<AuditEventsPage> {
    const filter = filterOf(query, tenantScope(caller, query.tenant));
    if (this.#index === null)
      throw new RequestError(
        'AUDIT.UNAVAILABLE',
        "this server's event store keeps no audit index (use the embedded SQLite store or PostgreSQL)",
      );
    const limit = query.limit ?? DEFAULT_LIMIT;
    const after = query.cursor === undefined ? 0 : decodeCursor(filter, query.cursor);
    const hits = await this.#index.query(filter, { after, limit });
    const last = hits.at(-1)?.entry.position;
    const more =
      last !== undefined &&
      hits.length === limit &&
      (await this.#index.query(filter, { after: last, limit: 1 })).length > 0;
    return {
      events: hits.map(viewOf),
      next_cursor: more ? encodeCursor(filter, last) : null,
      agent_contract: errorContract(false),
    };
  }
}

function filterOf(query: AuditEventsQuery, tenant: string | undefined): AuditFilter {
  const instant = (field: 'since' | 'until'): string | undefined => {
    const value = query[field];
    if (value === undefined) return undefined;
    const time = Date.parse(value);
    if (!Number.isFinite(time))
      throw new RequestError('REQUEST.INVALID', `"${field}" is not a real instant: ${value}`, { field });
    return new Date(time).toISOString();
  };
  const fields: Record<keyof AuditFilter, string | undefined> = {
    tenant,
    runId: query.run,
    definitionId: query.definition,
    actor: query.actor,
    type: query.type,
    stepId: query.step,
    policyId: query.policy,
    since: instant('since'),
    until: instant('until'),
  };
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as AuditFilter;
}

function viewOf({ entry, event }: AuditHit): AuditEventView {
  return {
    position: event.position,
    runId: entry.runId,
    revision: event.revision,
    type: event.type,
    data: event.data,
    metadata: event.metadata,
    recordedAt: event.recordedAt,
    id: event.id,
    tenant: entry.tenant,
    definitionId: entry.definitionId,
    actor: entry.actor,
    stepId: entry.stepId,
    policyId: entry.policyId,
  };
}

injectByToken(AuditEventsController, [AUDIT_EVENTS]);
decorateClass(AuditEventsController, [
  Controller('v1/audit/events'),
  ApiTags('audit'),
  ApiBearerAuth(),
  ...errorResponses(400, 401, 403, 409),
]);
decorateMethod(
  AuditEventsController,
  'search',
  [
    Get(),
    Roles(...HISTORY_READERS),
    ApiOperation({
      summary: 'search the events of every run of the tenant, oldest first, a page at a time',
      description:
        '?run=&definition=&actor=&type=&step=&policy=&since=&until=&limit=&cursor=; served from the audit index; next_cursor is null at the end',
    }),
    ApiResponse({ status: 200, description: 'a page of events', schema: { type: 'object' } }),
  ],
  [{ decorator: Query(), type: AuditEventsQuery }, { decorator: Caller() }],
);
