import type { ReadRow, ReadRowQuery, ReadRowStore } from '@orchestron/event-store';
import {
  assertReadRowId,
  assertReadRowTable,
  normalizeReadRowQuery,
  prepareReadRows,
} from '@orchestron/event-store/adapter';
import type { SqliteDatabase } from './schema.ts';
import { guarded } from './sqlite-errors.ts';

type Statement = ReturnType<SqliteDatabase['prepare']>;
type Value = string | number;
const LABELS = ['tenant', 'status', 'kind'] as const;
const COLUMNS = 'id, position, tenant, status, kind, body';

/**
 * The ReadRowStore in the `read_rows` table. A put is one transaction of upserts, so a reader sees all of its rows
 * or none; like a checkpoint save it never joins a group-commit batch of events (both are synchronous calls).
 */
export function createReadRowsTable(db: SqliteDatabase, assertOpen: () => void): ReadRowStore {
  const select = db.prepare<[string, string], ReadRow>(`SELECT ${COLUMNS} FROM read_rows WHERE tbl = ? AND id = ?`);
  const upsert = db.prepare<[string, string, number, string, string, string, string]>(
    `INSERT INTO read_rows (tbl, id, position, tenant, status, kind, body) VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (tbl, id) DO UPDATE SET position = excluded.position, tenant = excluded.tenant,
       status = excluded.status, kind = excluded.kind, body = excluded.body
     WHERE excluded.position >= read_rows.position`,
  );
  const putAll = db.transaction((table: string, rows: readonly ReadRow[]) => {
    for (const row of rows) upsert.run(table, row.id, row.position, row.tenant, row.status, row.kind, row.body);
  });
  const lists = new Map<string, Statement>();
  const listStatement = (query: ReadRowQuery): Statement => {
    const filters = LABELS.filter((label) => query[label] !== undefined);
    if (query.beforePosition !== undefined) filters.push('position < ?' as never);
    const key = filters.join(',');
    let statement = lists.get(key);
    if (statement === undefined) {
      const where = filters.map((filter) => (filter.includes('?') ? filter : `${filter} = ?`));
      statement = db.prepare(
        `SELECT ${COLUMNS} FROM read_rows WHERE ${['tbl = ?', ...where].join(' AND ')} ORDER BY position DESC LIMIT ?`,
      );
      lists.set(key, statement);
    }
    return statement;
  };

  return {
    async put(table, rows) {
      assertOpen();
      const prepared = prepareReadRows(table, rows);
      guarded(() => putAll(table, prepared));
    },
    async get(table, id) {
      assertOpen();
      assertReadRowTable(table);
      assertReadRowId(id);
      return guarded(() => select.get(table, id));
    },
    async list(table, query) {
      assertOpen();
      const normalized = normalizeReadRowQuery(table, query);
      const values: Value[] = [
        table,
        ...LABELS.flatMap((label) => (normalized[label] === undefined ? [] : [normalized[label]])),
        ...(normalized.beforePosition === undefined ? [] : [normalized.beforePosition]),
        normalized.limit,
      ];
      return guarded(() => listStatement(normalized).all(values) as ReadRow[]);
    },
  };
}
