import { isStorableText } from './checkpoint-seal.ts';
import { MAX_READ_ROWS_PER_LIST } from './read-rows.port.ts';
import type { ReadRow, ReadRowQuery } from './read-rows.port.ts';

const MAX_NAME_LENGTH = 200;
const LABELS = ['tenant', 'status', 'kind'] as const;

function assertName(value: unknown, what: string): asserts value is string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_NAME_LENGTH)
    throw new TypeError(`${what} must be a string of 1 to ${MAX_NAME_LENGTH} characters`);
  if (!isStorableText(value)) throw new TypeError(`${what} must be well-formed Unicode without U+0000`);
}

function assertPosition(value: unknown, what: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)
    throw new TypeError(`${what} must be a non-negative integer`);
}

export function assertReadRowTable(table: unknown): asserts table is string {
  assertName(table, 'read row table');
}

export function assertReadRowId(id: unknown): asserts id is string {
  assertName(id, 'read row id');
}

/** Checks a put's arguments, so every adapter stores exactly what the port accepted. Copies the rows. */
export function prepareReadRows(table: unknown, rows: unknown): ReadRow[] {
  assertReadRowTable(table);
  if (!Array.isArray(rows)) throw new TypeError('read rows must be an array');
  return rows.map((row: unknown, index) => {
    if (typeof row !== 'object' || row === null) throw new TypeError(`read rows[${index}] must be an object`);
    const { id, position, tenant, status, kind, body } = row as Partial<ReadRow>;
    assertName(id, `read rows[${index}].id`);
    assertPosition(position, `read rows[${index}].position`);
    assertName(tenant, `read rows[${index}].tenant`);
    assertName(status, `read rows[${index}].status`);
    assertName(kind, `read rows[${index}].kind`);
    if (typeof body !== 'string' || !isStorableText(body))
      throw new TypeError(`read rows[${index}].body must be well-formed Unicode without U+0000`);
    return { id, position, tenant, status, kind, body };
  });
}

export function normalizeReadRowQuery(table: unknown, query: unknown): ReadRowQuery {
  assertReadRowTable(table);
  if (typeof query !== 'object' || query === null) throw new TypeError('read row query must be an object');
  const given = query as Partial<ReadRowQuery>;
  const { limit, beforePosition } = given;
  if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 1 || limit > MAX_READ_ROWS_PER_LIST)
    throw new TypeError(`read row query.limit must be an integer from 1 to ${MAX_READ_ROWS_PER_LIST}`);
  if (beforePosition !== undefined) assertPosition(beforePosition, 'read row query.beforePosition');
  const normalized: { -readonly [K in keyof ReadRowQuery]: ReadRowQuery[K] } = { limit };
  if (beforePosition !== undefined) normalized.beforePosition = beforePosition;
  for (const label of LABELS) {
    const value = given[label];
    if (value === undefined) continue;
    assertName(value, `read row query.${label}`);
    normalized[label] = value;
  }
  return normalized;
}

/** Whether a row answers a (normalized) query: for adapters that filter in memory. */
export function readRowMatches(row: ReadRow, query: ReadRowQuery): boolean {
  if (query.beforePosition !== undefined && row.position >= query.beforePosition) return false;
  return LABELS.every((label) => query[label] === undefined || row[label] === query[label]);
}
