/**
 * One row of a read model kept beside the log: a document the caller encodes (`body`), found by `id` or listed by
 * three labels, newest `position` first. The run index keeps its ended runs here, so a process holds only the runs
 * still moving.
 */
export interface ReadRow {
  /** Unique within its table: 1 to 200 characters. */
  readonly id: string;
  /** Non-negative integer: the global position of the last event folded into the row. */
  readonly position: number;
  readonly tenant: string;
  readonly status: string;
  readonly kind: string;
  /** Well-formed Unicode without U+0000 (what JSON.stringify produces). */
  readonly body: string;
}

/** Rows with every label given here, below `beforePosition` when it is given, newest first, at most `limit`. */
export interface ReadRowQuery {
  readonly tenant?: string;
  readonly status?: string;
  readonly kind?: string;
  readonly beforePosition?: number;
  /** 1 to MAX_READ_ROWS_PER_LIST. */
  readonly limit: number;
}

export const MAX_READ_ROWS_PER_LIST = 10_000;

/**
 * An optional capability of an EventStore: tables of read rows beside the log. Writing them never appends to the
 * log, so projections do not see their own writes.
 *
 * - `put` upserts its rows by id in one transaction: a reader sees all of them or none. A row never moves back: a
 *   put at a lower position than the stored row's leaves the stored row, so two processes projecting the same log
 *   at different speeds cannot undo each other.
 * - `get` answers undefined for an id never put; `list` orders by position, highest first.
 * - Tables are isolated from each other.
 */
export interface ReadRowStore {
  put(table: string, rows: readonly ReadRow[]): Promise<void>;
  get(table: string, id: string): Promise<ReadRow | undefined>;
  list(table: string, query: ReadRowQuery): Promise<ReadRow[]>;
}
