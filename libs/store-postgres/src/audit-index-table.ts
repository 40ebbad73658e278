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
import type { Pool } from 'pg';
import { guarded } from './postgres-errors.ts';
import type { SchemaNames } from './schema-names.ts';

// As in events-table.ts: everything as text, instants as toISOString writes them.
const iso = (column: string): string => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
const COLUMNS = `a.position::text AS position, a.run_id, a.tenant, a.definition_id, a.type, a.actor, a.step_id,
  a.policy_id, ${iso('a.recorded_at')} AS recorded_at, e.stream_id, e.revision::text AS revision, e.id,
  e.type AS event_type, e.data::text AS data, e.metadata::text AS metadata, ${iso('e.recorded_at')} AS event_recorded_at`;

/**
 * The AuditIndexStore in the schema's `audit_index` table, joined to `events` on each query. A put is one
 * statement (an upsert over arrays), so one transaction; it takes no lock the appends take.
 */
export function createAuditIndexTable(pool: Pool, names: SchemaNames, assertOpen: () => void): AuditIndexStore {
  const { schema, statementPrefix } = names;
  const upsert = {
    name: `${statementPrefix}audit_index_put`,
    text: `INSERT INTO ${schema}.audit_index (position, run_id, tenant, definition_id, type, actor, step_id,
             policy_id, recorded_at)
           SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
             $7::text[], $8::text[], $9::timestamptz[])
           ON CONFLICT (position) DO UPDATE SET run_id = excluded.run_id, tenant = excluded.tenant,
             definition_id = excluded.definition_id, type = excluded.type, actor = excluded.actor,
             step_id = excluded.step_id, policy_id = excluded.policy_id, recorded_at = excluded.recorded_at`,
  };
  const queryText = (query: NormalizedAuditQuery): string => {
    const where = ['a.position > $1'];
    for (const label of AUDIT_LABELS)
      if (query[label] !== undefined) where.push(`${AUDIT_COLUMNS[label]} = $${where.length + 1}`);
    if (query.since !== undefined) where.push(`a.recorded_at >= $${where.length + 1}::timestamptz`);
    if (query.until !== undefined) where.push(`a.recorded_at < $${where.length + 1}::timestamptz`);
    return `SELECT ${COLUMNS} FROM ${schema}.audit_index a JOIN ${schema}.events e ON e.position = a.position
            WHERE ${where.join(' AND ')} ORDER BY a.position LIMIT $${where.length + 1}`;
  };

  return {
    async put(entries) {
      assertOpen();
      const prepared = lastPerPosition(prepareAuditEntries(entries));
      if (prepared.length === 0) return;
      const column = <K extends keyof AuditEntry>(key: K): AuditEntry[K][] => prepared.map((entry) => entry[key]);
      const values = [column('position'), column('runId'), column('tenant'), column('definitionId')];
      const rest = [column('type'), column('actor'), column('stepId'), column('policyId'), column('recordedAt')];
      await guarded('put audit entries', () => pool.query({ ...upsert, values: [...values, ...rest] }));
    },
    async query(filter, page) {
      assertOpen();
      const query = normalizeAuditQuery(filter, page);
      const values = auditQueryValues(query);
      const { rows } = await guarded('query the audit index', () =>
        pool.query<AuditHitRow>({ text: queryText(query), values }),
      );
      return rows.map(auditHitOf);
    },
  };
}

/** One upsert may not touch a row twice: of the entries at one position, the last one given stays. */
function lastPerPosition(entries: readonly AuditEntry[]): AuditEntry[] {
  return [...new Map(entries.map((entry) => [entry.position, entry])).values()];
}
