import type { RunStatus } from '@orchestron/workflow-core';
import type { IndexedRun } from './run-index.ts';
import { epochOf, isoOf, isIsoRange } from './iso-times.ts';

/**
 * The run index in a checkpoint, by column: one array per field, tenants and definitions as numbers into tables,
 * status and phase as numbers, times as epoch milliseconds (updatedAt after createdAt), positions as the step from
 * the run before, and the rare waiting approvals and attentions as sparse lists. About 70 bytes a run instead of
 * about 330 as JSON objects, and a column of one type each parses and checks faster than rows of mixed fields.
 * Exact: a time that would not come back as the same text stays text. A change here changes READ_SIDE_FORMAT.
 */
export interface RunColumns {
  readonly tenants: string[];
  readonly definitionIds: string[];
  readonly id: string[];
  readonly tenant: number[];
  readonly definitionId: number[];
  readonly definitionVersion: number[];
  readonly status: number[];
  readonly phase: number[];
  readonly createdAt: (number | string)[];
  readonly updatedAt: (number | string)[];
  readonly position: number[];
  readonly waitingApproval: [index: number, stepIds: string[]][];
  readonly attention: [index: number, attention: NonNullable<IndexedRun['attention']>][];
}

// The checkpoint stores a status as its index here: this order is part of the format, so it is spelled out rather
// than taken from RUN_STATUSES, and never changes without a new format version.
const STATUSES: readonly RunStatus[] = [
  'running',
  'paused',
  'needs_operator',
  'compensating',
  'completed',
  'failed',
  'compensated',
  'cancelled',
];
const PHASES = ['execute', 'compensate'] as const;
const INTEGER_COLUMNS = ['tenant', 'definitionId', 'definitionVersion', 'status', 'phase', 'position'] as const;

/** A checkpoint the read side cannot use: it says why, and the read side replays the log instead. */
export class UnusableCheckpointError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'UnusableCheckpointError';
  }
}

/** Encodes `runs` in slices of `slice`, calling `between` (a yield to the event loop) after each slice. */
export async function encodeRunColumns(
  runs: readonly IndexedRun[],
  slice: number,
  between: () => Promise<void>,
): Promise<RunColumns> {
  const tenants = new Map<string, number>();
  const definitions = new Map<string, number>();
  const columns: RunColumns = {
    tenants: [],
    definitionIds: [],
    ...{ id: [], tenant: [], definitionId: [], definitionVersion: [], status: [], phase: [] },
    ...{ createdAt: [], updatedAt: [], position: [], waitingApproval: [], attention: [] },
  };
  const days = new Map<string, number>();
  let previous = 0;
  for (const [index, run] of runs.entries()) {
    if (index > 0 && index % slice === 0) await between();
    columns.id.push(run.id);
    columns.tenant.push(intern(tenants, run.tenant));
    columns.definitionId.push(intern(definitions, run.definitionId));
    columns.definitionVersion.push(run.definitionVersion);
    columns.status.push(STATUSES.indexOf(run.status));
    columns.phase.push(PHASES.indexOf(run.phase));
    const created = epochOf(run.createdAt, days);
    const updated = epochOf(run.updatedAt, days);
    const asNumbers = created !== undefined && updated !== undefined;
    columns.createdAt.push(asNumbers ? created : run.createdAt);
    columns.updatedAt.push(asNumbers ? updated - created : run.updatedAt);
    columns.position.push(run.position - previous);
    previous = run.position;
    if (run.waitingApproval.length > 0) columns.waitingApproval.push([index, [...run.waitingApproval]]);
    if (run.attention !== null) columns.attention.push([index, run.attention]);
  }
  columns.tenants.push(...tenants.keys());
  columns.definitionIds.push(...definitions.keys());
  return columns;
}

/** Columns back into runs, refusing anything columns of this format could not hold. */
export function decodeRunColumns(value: unknown, position: number): IndexedRun[] {
  const columns = checkColumns(value);
  const waiting = new Map(columns.waitingApproval);
  const attention = new Map(columns.attention);
  const days = new Map<number, string>();
  const runs = new Array<IndexedRun>(columns.id.length);
  let at = 0;
  for (let index = 0; index < runs.length; index++) {
    at += columns.position[index] as number;
    if (at < 1 || at > position) throw new UnusableCheckpointError(`run #${index} is at ${at}, not in 1..${position}`);
    const [createdAt, updatedAt] = timesOf(columns.createdAt[index], columns.updatedAt[index], days, index);
    runs[index] = {
      id: columns.id[index] as string,
      tenant: entry(columns.tenants, columns.tenant[index], index),
      definitionId: entry(columns.definitionIds, columns.definitionId[index], index),
      definitionVersion: columns.definitionVersion[index] as number,
      status: entry(STATUSES, columns.status[index], index),
      phase: entry(PHASES, columns.phase[index], index),
      createdAt,
      updatedAt,
      attention: attention.get(index) ?? null,
      waitingApproval: waiting.get(index) ?? [],
      position: at,
    };
  }
  return runs;
}

function checkColumns(value: unknown): RunColumns {
  if (typeof value !== 'object' || value === null) throw new UnusableCheckpointError('its runs are not columns');
  const columns = value as Record<string, unknown>;
  const ids = columns['id'];
  if (!isArrayOf(ids, isString)) throw new UnusableCheckpointError('its run ids are not strings');
  const length = ids.length;
  const fail = (name: string): never => {
    throw new UnusableCheckpointError(`its ${name} column is malformed`);
  };
  for (const name of INTEGER_COLUMNS) if (!isArrayOf(columns[name], Number.isSafeInteger, length)) fail(name);
  for (const name of ['createdAt', 'updatedAt'])
    if (!isArrayOf(columns[name], (item) => isString(item) || Number.isSafeInteger(item), length)) fail(name);
  for (const name of ['tenants', 'definitionIds']) if (!isArrayOf(columns[name], isString)) fail(name);
  if (!isArrayOf(columns['waitingApproval'], (item) => isSparse(item, length, (ids) => isArrayOf(ids, isString))))
    fail('waitingApproval');
  if (!isArrayOf(columns['attention'], (item) => isSparse(item, length, isAttention))) fail('attention');
  return value as RunColumns;
}

function timesOf(
  created: number | string | undefined,
  updated: number | string | undefined,
  days: Map<number, string>,
  index: number,
): [string, string] {
  if (typeof created === 'string' && typeof updated === 'string') return [created, updated];
  if (
    typeof created === 'number' &&
    typeof updated === 'number' &&
    isIsoRange(created) &&
    isIsoRange(created + updated)
  )
    return [isoOf(created, days), isoOf(created + updated, days)];
  throw new UnusableCheckpointError(`run #${index} has malformed times`);
}

function entry<T>(table: readonly T[], at: number | undefined, index: number): T {
  const value = table[at as number];
  if (value === undefined) throw new UnusableCheckpointError(`run #${index} points past a table`);
  return value;
}

function intern(table: Map<string, number>, value: string): number {
  let index = table.get(value);
  if (index === undefined) table.set(value, (index = table.size));
  return index;
}

const isString = (value: unknown): value is string => typeof value === 'string';

function isArrayOf<T>(value: unknown, check: (item: unknown) => boolean, length?: number): value is T[] {
  return Array.isArray(value) && (length === undefined || value.length === length) && value.every(check);
}

function isSparse(item: unknown, length: number, check: (value: unknown) => boolean): boolean {
  if (!Array.isArray(item) || item.length !== 2) return false;
  const [index, value] = item as unknown[];
  return Number.isSafeInteger(index) && (index as number) >= 0 && (index as number) < length && check(value);
}

function isAttention(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const { code, message, stepId } = value as Record<string, unknown>;
  const step = stepId === null || stepId === undefined || typeof stepId === 'string';
  return typeof code === 'string' && typeof message === 'string' && step;
}
