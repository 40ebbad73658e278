import type { AuditEntry, AuditIndexStore } from '@orchestron/event-store';
import {
  AUDIT_COLUMNS,
  AUDIT_LABELS,
  auditHitOf,
  auditQueryValues,
  normalizeAuditQuery,
  prepareAuditEntries,
} from '@orchestron/event-store/adapter';
import type { AuditHitRow, NormalizedAuditQuery } from '@orchestron/event-store/adapter';
import type { SqliteDatabase } from './schema.ts';
import { guarded } from './sqlite-errors.ts';

type Statement = ReturnType<SqliteDatabase['prepare']>;

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
      ...AUDIT_LABELS.filter((l) => query[l] !== undefined).map((l) => `${AUDIT_COLUMNS[l]} = ?`),
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
      const values = auditQueryValues(query);
      return guarded(() => (statementFor(query).all(values) as AuditHitRow[]).map(auditHitOf));
    },
  };
}
