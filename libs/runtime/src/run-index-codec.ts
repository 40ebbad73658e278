import type { RunStatus } from '@orchestron/workflow-core';
import type { IndexedRun } from './run-index.ts';

/**
 * The run index in a checkpoint: one JSON array per run, with its tenant and definition as numbers into tables,
 * status and phase as numbers, and times as epoch milliseconds (updatedAt as the delta from createdAt). About 100
 * bytes a run instead of about 330 as plain JSON objects, and as exact: a time that would not come back as the
 * same text stays text. Changing anything here changes READ_SIDE_FORMAT.
 */
export type RunRow = [
  id: string,
  tenant: number,
  definitionId: number,
  definitionVersion: number,
  status: number,
  phase: number,
  createdAt: number | string,
  updatedAt: number | string,
  position: number,
  waitingApproval: string[],
  attention: IndexedRun['attention'],
];

export interface RunTables {
  readonly tenants: string[];
  readonly definitionIds: string[];
}

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

/** A checkpoint the read side cannot use: it says why, and the read side replays the log instead. */
export class UnusableCheckpointError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'UnusableCheckpointError';
  }
}

/** Encodes runs one at a time, collecting the tables their rows point into. */
export class RunRowEncoder {
  private readonly tenants = new Map<string, number>();
  private readonly definitionIds = new Map<string, number>();

  row(run: IndexedRun): RunRow {
    const created = epochOf(run.createdAt);
    const updated = epochOf(run.updatedAt);
    const [createdAt, updatedAt] =
      created === undefined || updated === undefined ? [run.createdAt, run.updatedAt] : [created, updated - created];
    return [
      run.id,
      intern(this.tenants, run.tenant),
      intern(this.definitionIds, run.definitionId),
      run.definitionVersion,
      STATUSES.indexOf(run.status),
      PHASES.indexOf(run.phase),
      createdAt,
      updatedAt,
      run.position,
      run.waitingApproval as string[],
      run.attention,
    ];
  }

  tables(): RunTables {
    return { tenants: [...this.tenants.keys()], definitionIds: [...this.definitionIds.keys()] };
  }
}

/** Rows back into runs, refusing anything a row of this format could not hold. */
export function decodeRunRows(rows: unknown, tables: RunTables, position: number): IndexedRun[] {
  if (!Array.isArray(rows)) throw new UnusableCheckpointError('its runs are not a list');
  return rows.map((row: unknown, index) => decodeRow(row, tables, position, index));
}

export function decodeRunTables(value: unknown): RunTables {
  const { tenants, definitionIds } = (value ?? {}) as Partial<RunTables>;
  if (!isStringArray(tenants) || !isStringArray(definitionIds))
    throw new UnusableCheckpointError('its tenant or definition tables are not lists of strings');
  return { tenants, definitionIds };
}

function decodeRow(row: unknown, tables: RunTables, position: number, index: number): IndexedRun {
  const bad = (what: string): UnusableCheckpointError => new UnusableCheckpointError(`run #${index} ${what}`);
  if (!Array.isArray(row) || row.length !== 11) throw bad('is not a row of 11 fields');
  const [id, tenant, definitionId, definitionVersion, status, phase, createdAt, updatedAt, at, waiting, attention] =
    row as unknown[];
  const tenantName = tables.tenants[tenant as number];
  const definition = tables.definitionIds[definitionId as number];
  if (typeof id !== 'string' || tenantName === undefined || definition === undefined) throw bad('has no id or tables');
  if (!Number.isSafeInteger(definitionVersion)) throw bad('has no definition version');
  const runStatus = STATUSES[status as number];
  const runPhase = PHASES[phase as number];
  if (runStatus === undefined || runPhase === undefined) throw bad('has an unknown status or phase');
  if (!Number.isSafeInteger(at) || (at as number) <= 0 || (at as number) > position)
    throw bad(`has position ${String(at)}, not in 1..${position}`);
  if (!isStringArray(waiting)) throw bad('has a waiting list that is not strings');
  if (attention !== null && !isAttention(attention)) throw bad('has a malformed attention');
  const [created, updated] = decodeTimes(createdAt, updatedAt, bad);
  return {
    id,
    tenant: tenantName,
    definitionId: definition,
    definitionVersion: definitionVersion as number,
    status: runStatus,
    phase: runPhase,
    createdAt: created,
    updatedAt: updated,
    attention,
    waitingApproval: waiting,
    position: at as number,
  };
}

function decodeTimes(
  createdAt: unknown,
  updatedAt: unknown,
  bad: (what: string) => Error,
): [created: string, updated: string] {
  if (typeof createdAt === 'string' && typeof updatedAt === 'string') return [createdAt, updatedAt];
  if (Number.isSafeInteger(createdAt) && Number.isSafeInteger(updatedAt)) {
    const created = new Date(createdAt as number);
    const updated = new Date((createdAt as number) + (updatedAt as number));
    if (!Number.isNaN(created.getTime()) && !Number.isNaN(updated.getTime()))
      return [created.toISOString(), updated.toISOString()];
  }
  throw bad('has malformed times');
}

/** Epoch milliseconds when the text is exactly what toISOString makes of them, so decoding gives the same text. */
function epochOf(iso: string): number | undefined {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) || new Date(ms).toISOString() !== iso ? undefined : ms;
}

function intern(table: Map<string, number>, value: string): number {
  let index = table.get(value);
  if (index === undefined) table.set(value, (index = table.size));
  return index;
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

function isAttention(value: unknown): value is NonNullable<IndexedRun['attention']> {
  if (typeof value !== 'object' || value === null) return false;
  const { code, message, stepId } = value as Record<string, unknown>;
  const step = stepId === null || stepId === undefined || typeof stepId === 'string';
  return typeof code === 'string' && typeof message === 'string' && step;
}
