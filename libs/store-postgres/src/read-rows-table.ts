import type { ReadRow, ReadRowQuery, ReadRowStore } from '@orchestron/event-store';
import {
  assertReadRowId,
  assertReadRowTable,
  normalizeReadRowQuery,
  prepareReadRows,
} from '@orchestron/event-store/adapter';
import type { Pool } from 'pg';
import { guarded } from './postgres-errors.ts';
import type { SchemaNames } from './schema-names.ts';

interface Row {
  readonly id: string;
  readonly position: string;
  readonly tenant: string;
  readonly status: string;
  readonly kind: string;
  readonly body: string;
}

const LABELS = ['tenant', 'status', 'kind'] as const;
const COLUMNS = 'id, position::text AS position, tenant, status, kind, body';

/**
 * The ReadRowStore in the schema's `read_rows` table. A put is one statement (an upsert over arrays), so one
 * transaction; it takes no lock the appends take.
 */
export function createReadRowsTable(pool: Pool, names: SchemaNames, assertOpen: () => void): ReadRowStore {
  const { schema, statementPrefix } = names;
  const upsert = {
    name: `${statementPrefix}read_rows_put`,
    text: `INSERT INTO ${schema}.read_rows AS r (tbl, id, position, tenant, status, kind, body)
           SELECT $1, * FROM unnest($2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[])
           ON CONFLICT (tbl, id) DO UPDATE SET position = excluded.position, tenant = excluded.tenant,
             status = excluded.status, kind = excluded.kind, body = excluded.body
           WHERE excluded.position >= r.position`,
  };
  const select = {
    name: `${statementPrefix}read_rows_get`,
    text: `SELECT ${COLUMNS} FROM ${schema}.read_rows WHERE tbl = $1 AND id = $2`,
  };
  const listText = (query: ReadRowQuery): string => {
    const where = ['tbl = $1'];
    for (const label of LABELS) if (query[label] !== undefined) where.push(`${label} = $${where.length + 1}`);
    if (query.beforePosition !== undefined) where.push(`position < $${where.length + 1}`);
    return `SELECT ${COLUMNS} FROM ${schema}.read_rows WHERE ${where.join(' AND ')}
            ORDER BY read_rows.position DESC LIMIT $${where.length + 1}`;
  };

  return {
    async put(table, rows) {
      assertOpen();
      const prepared = newestPerId(prepareReadRows(table, rows));
      if (prepared.length === 0) return;
      const column = <K extends keyof ReadRow>(key: K): ReadRow[K][] => prepared.map((row) => row[key]);
      const values = [table, column('id'), column('position'), column('tenant'), column('status')];
      await guarded('put read rows', () =>
        pool.query({ ...upsert, values: [...values, column('kind'), column('body')] }),
      );
    },
    async get(table, id) {
      assertOpen();
      assertReadRowTable(table);
      assertReadRowId(id);
      const { rows } = await guarded('get a read row', () => pool.query<Row>({ ...select, values: [table, id] }));
      return rows[0] === undefined ? undefined : fromRow(rows[0]);
    },
    async list(table, query) {
      assertOpen();
      const normalized = normalizeReadRowQuery(table, query);
      const values = [
        table,
        ...LABELS.flatMap((label) => (normalized[label] === undefined ? [] : [normalized[label]])),
        ...(normalized.beforePosition === undefined ? [] : [normalized.beforePosition]),
        normalized.limit,
      ];
      const { rows } = await guarded('list read rows', () => pool.query<Row>({ text: listText(normalized), values }));
      return rows.map(fromRow);
    },
  };
}

/** One upsert may not touch a row twice: of the rows with one id, the last at the highest position stays. */
function newestPerId(rows: readonly ReadRow[]): ReadRow[] {
  const byId = new Map<string, ReadRow>();
  for (const row of rows) {
    const current = byId.get(row.id);
    if (current === undefined || current.position <= row.position) byId.set(row.id, row);
  }
  return [...byId.values()];
}

function fromRow(row: Row): ReadRow {
  return { ...row, position: Number(row.position) };
}
