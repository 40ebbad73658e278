import type { ReadRow, ReadRowQuery, ReadRowStore } from '@orchestron/event-store';

/**
 * A store's read rows seen through a scratch layer: reads see the rows put here first and the store's underneath,
 * puts stay here. A verify catches the persisted models up the way a start would, and archives what that moves,
 * without writing to the store it checks.
 */
export class ScratchRows implements ReadRowStore {
  private readonly base: ReadRowStore;
  private readonly tables = new Map<string, Map<string, ReadRow>>();

  constructor(base: ReadRowStore) {
    this.base = base;
  }

  /** The rows put here, in `table`. */
  written(table: string): ReadRow[] {
    return [...(this.tables.get(table)?.values() ?? [])];
  }

  async put(table: string, rows: readonly ReadRow[]): Promise<void> {
    const scratch = this.tables.get(table) ?? new Map<string, ReadRow>();
    this.tables.set(table, scratch);
    for (const row of rows) {
      // As the port says: a row never moves back.
      const stored = await this.get(table, row.id);
      if (stored === undefined || row.position >= stored.position) scratch.set(row.id, row);
    }
  }

  async get(table: string, id: string): Promise<ReadRow | undefined> {
    return this.tables.get(table)?.get(id) ?? (await this.base.get(table, id));
  }

  /** The store's rows with the scratch ones in their place; a page may come back short when scratch rows hide some. */
  async list(table: string, query: ReadRowQuery): Promise<ReadRow[]> {
    const scratch = this.tables.get(table) ?? new Map<string, ReadRow>();
    const below = (row: ReadRow): boolean => query.beforePosition === undefined || row.position < query.beforePosition;
    const labelled = (row: ReadRow): boolean =>
      (query.tenant === undefined || row.tenant === query.tenant) &&
      (query.status === undefined || row.status === query.status) &&
      (query.kind === undefined || row.kind === query.kind);
    const base = (await this.base.list(table, query)).filter((row) => !scratch.has(row.id));
    const mine = [...scratch.values()].filter((row) => below(row) && labelled(row));
    return [...base, ...mine].sort((a, b) => b.position - a.position).slice(0, query.limit);
  }
}
