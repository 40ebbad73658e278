import type { AuditEntry, AuditHit, AuditIndexStore } from '@orchestron/event-store';
import { AUDIT_LABELS, normalizeAuditQuery, prepareAuditEntries } from '@orchestron/event-store/adapter';
import type { AuditLabel, NormalizedAuditQuery } from '@orchestron/event-store/adapter';
import type { SqliteDatabase } from './schema.ts';
import { guarded } from './sqlite-errors.ts';

type Statement = ReturnType<SqliteDatabase['prepare']>;

interface HitRow {
  readonly position: number;
  readonly run_id: string;
  readonly tenant: string;
  readonly definition_id: string;
  readonly type: string;
  readonly actor: string | null;
  readonly step_id: string | null;
  readonly policy_id: string | null;
  readonly recorded_at: string;
  readonly stream_id: string;
  readonly revision: number;
  readonly id: string;
  readonly event_type: string;
  readonly data: string;
  readonly metadata: string;
  readonly event_recorded_at: string;
}

const COLUMN: Readonly<Record<AuditLabel, string>> = {
  tenant: 'a.tenant',
  runId: 'a.run_id',
  definitionId: 'a.definition_id',
  actor: 'a.actor',
  type: 'a.type',
  stepId: 'a.step_id',
  policyId: 'a.policy_id',
};
const SELECT = `SELECT a.position, a.run_id, a.tenant, a.definition_id, a.type, a.actor, a.step_id, a.policy_id,
  a.recorded_at, e.stream_id, e.revision, e.id, e.type AS event_type, e.data, e.metadata, e.recorded_at AS event_recorded_at
  FROM audit_index a JOIN events e ON e.position = a.position`;

/** The AuditIndexStore in the `audit_index` table, joined to `events` on each query. A put is one transaction. */
export function createAuditIndexTable(db: SqliteDatabase, assertOpen: () => void): AuditIndexStore {
  const upsert = db.prepare(
    `INSERT OR REPLACE INTO audit_index (position, run_id, tenant, definition_id, type, actor, step_id, policy_id,
       recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const putAll = db.transaction((entries: readonly AuditEntry[]) => {
    for (const e of entries)
      upsert.run(e.position, e.runId, e.tenant, e.definitionId, e.type, e.actor, e.stepId, e.policyId, e.recordedAt);
  });
  const queries = new Map<string, Statement>();
  const statementFor = (query: NormalizedAuditQuery): Statement => {
    const where = [
      'a.position > ?',
      ...AUDIT_LABELS.filter((l) => query[l] !== undefined).map((l) => `${COLUMN[l]} = ?`),
    ];
    if (query.since !== undefined) where.push('a.recorded_at >= ?');
    if (query.until !== undefined) where.push('a.recorded_at < ?');
    const text = `${SELECT} WHERE ${where.join(' AND ')} ORDER BY a.position LIMIT ?`;
    let statement = queries.get(text);
    if (statement === undefined) queries.set(text, (statement = db.prepare(text)));
    return statement;
  };

  return {
    async put(entries) {
      assertOpen();
      const prepared = prepareAuditEntries(entries);
      guarded(() => putAll(prepared));
    },
    async query(filter, page) {
      assertOpen();
      const query = normalizeAuditQuery(filter, page);
      const values = [
        query.after,
        ...AUDIT_LABELS.flatMap((label) => (query[label] === undefined ? [] : [query[label]])),
        ...(query.since === undefined ? [] : [query.since]),
        ...(query.until === undefined ? [] : [query.until]),
        query.limit,
      ];
      return guarded(() => (statementFor(query).all(values) as HitRow[]).map(hitOf));
    },
  };
}

function hitOf(row: HitRow): AuditHit {
  return {
    entry: {
      position: row.position,
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
      revision: row.revision,
      position: row.position,
      type: row.event_type,
      data: JSON.parse(row.data) as unknown,
      metadata: JSON.parse(row.metadata) as Record<string, unknown>,
      recordedAt: row.event_recorded_at,
    },
  };
}
