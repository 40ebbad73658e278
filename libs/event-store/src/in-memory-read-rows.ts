import {
  assertReadRowId,
  assertReadRowTable,
  normalizeReadRowQuery,
  prepareReadRows,
  readRowMatches,
} from './read-rows-arguments.ts';
import type { ReadRow, ReadRowStore } from './read-rows.port.ts';

/** The ReadRowStore of the in-memory event store: a map per table, sorted on each list. */
export function createInMemoryReadRows(assertOpen: () => void): ReadRowStore {
  const tables = new Map<string, Map<string, ReadRow>>();
  return {
    async put(table, rows) {
      assertOpen();
      const prepared = prepareReadRows(table, rows);
      const stored = tables.get(table) ?? new Map<string, ReadRow>();
      tables.set(table, stored);
      for (const row of prepared) {
        const current = stored.get(row.id);
        if (current === undefined || current.position <= row.position) stored.set(row.id, Object.freeze(row));
      }
    },
    async get(table, id) {
      assertOpen();
      assertReadRowTable(table);
      assertReadRowId(id);
      return tables.get(table)?.get(id);
    },
    async list(table, query) {
      assertOpen();
      const normalized = normalizeReadRowQuery(table, query);
      const rows = [...(tables.get(table)?.values() ?? [])].filter((row) => readRowMatches(row, normalized));
      return rows.sort((a, b) => b.position - a.position).slice(0, normalized.limit);
    },
  };
}
