/** What the SQL adapters of the audit index share: the column of each label, the values a query binds, its rows. */
import type { AuditHit } from './audit-index.port.ts';
import { AUDIT_LABELS } from './audit-index-arguments.ts';
import type { AuditLabel, NormalizedAuditQuery } from './audit-index-arguments.ts';

/** The `audit_index` column (aliased `a`) each label filters on. */
export const AUDIT_COLUMNS: Readonly<Record<AuditLabel, string>> = {
  tenant: 'a.tenant',
  runId: 'a.run_id',
  definitionId: 'a.definition_id',
  actor: 'a.actor',
  type: 'a.type',
  stepId: 'a.step_id',
  policyId: 'a.policy_id',
};

/** The values a query binds, in the order its WHERE clause names them: after, the labels given, since, until, limit. */
export function auditQueryValues(query: NormalizedAuditQuery): unknown[] {
  return [
    query.after,
    ...AUDIT_LABELS.flatMap((label) => (query[label] === undefined ? [] : [query[label]])),
    ...(query.since === undefined ? [] : [query.since]),
    ...(query.until === undefined ? [] : [query.until]),
    query.limit,
  ];
}

/** A row of the index joined to its event; a driver may give the integers as text (PostgreSQL's bigint). */
export interface AuditHitRow {
  readonly position: number | string;
  readonly run_id: string;
  readonly tenant: string;
  readonly definition_id: string;
  readonly type: string;
  readonly actor: string | null;
  readonly step_id: string | null;
  readonly policy_id: string | null;
  readonly recorded_at: string;
  readonly stream_id: string;
  readonly revision: number | string;
  readonly id: string;
  readonly event_type: string;
  readonly data: string;
  readonly metadata: string;
  readonly event_recorded_at: string;
}

export function auditHitOf(row: AuditHitRow): AuditHit {
  const position = Number(row.position);
  return {
    entry: {
      position,
      runId: row.run_id,
      tenant: row.tenant,
      definitionId: row.definition_id,
      type: row.type,
      actor: row.actor,
      stepId: row.step_id,
      policyId: row.policy_id,
      recordedAt: row.recorded_at,
    },
    event: {
      id: row.id,
      streamId: row.stream_id,
      revision: Number(row.revision),
      position,
      type: row.event_type,
      data: JSON.parse(row.data) as unknown,
      metadata: JSON.parse(row.metadata) as Record<string, unknown>,
      recordedAt: row.event_recorded_at,
    },
  };
}
