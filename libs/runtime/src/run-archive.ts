import type { ReadRow, ReadRowStore } from '@orchestron/event-store';
import { MAX_READ_ROWS_PER_LIST } from '@orchestron/event-store';
import { RUN_STATUSES } from '@orchestron/workflow-core';
import type { RunStatus } from '@orchestron/workflow-core';
import type { IndexedRun } from './run-summary.ts';

/** The table of the store's read rows the run index keeps its ended runs in. */
export const RUNS_TABLE = 'runs';

export interface ArchiveFilter {
  readonly tenant?: string;
  readonly status?: RunStatus;
  readonly definitionId?: string;
  /** Only runs whose newest event is before this global position. */
  readonly before?: number;
}

type Body = Pick<
  IndexedRun,
  'definitionVersion' | 'createdAt' | 'updatedAt' | 'attention' | 'waitingApproval' | 'phase'
>;

/**
 * Ended runs in the store's read rows: tenant, status and definition id are the labels a list filters on, the rest
 * of the summary is the row's body.
 */
export class RunArchive {
  private readonly rows: ReadRowStore;

  constructor(rows: ReadRowStore) {
    this.rows = rows;
  }

  put(runs: readonly IndexedRun[]): Promise<void> {
    return this.rows.put(RUNS_TABLE, runs.map(toRow));
  }

  async get(runId: string): Promise<IndexedRun | undefined> {
    const row = await this.rows.get(RUNS_TABLE, runId);
    return row === undefined ? undefined : fromRow(row);
  }

  /**
   * Runs matching `filter`, newest first, leaving out the ids `skip` says to, until `limit` are found or the
   * archive has no more. Pages through the table, so `skip` never makes a list come back short.
   */
  async list(filter: ArchiveFilter, limit: number, skip: (runId: string) => boolean): Promise<IndexedRun[]> {
    const found: IndexedRun[] = [];
    let beforePosition: number | undefined = filter.before;
    while (found.length < limit) {
      const page = Math.min(limit - found.length, MAX_READ_ROWS_PER_LIST);
      const rows = await this.rows.list(RUNS_TABLE, {
        ...(filter.tenant !== undefined ? { tenant: filter.tenant } : {}),
        ...(filter.status !== undefined ? { status: filter.status } : {}),
        ...(filter.definitionId !== undefined ? { kind: filter.definitionId } : {}),
        ...(beforePosition !== undefined ? { beforePosition } : {}),
        limit: page,
      });
      for (const row of rows) if (!skip(row.id)) found.push(fromRow(row));
      if (rows.length < page) break;
      beforePosition = rows[rows.length - 1]?.position;
    }
    return found.slice(0, limit);
  }
}

function toRow(run: IndexedRun): ReadRow {
  const body: Body = {
    definitionVersion: run.definitionVersion,
    createdAt: run.createdAt,
    updatedAt: run.updatedAt,
    attention: run.attention,
    waitingApproval: run.waitingApproval,
    phase: run.phase,
  };
  const { id, position, tenant, status, definitionId: kind } = run;
  return { id, position, tenant, status, kind, body: JSON.stringify(body) };
}

/** A row as a run; a row this version cannot read is an error naming it, never a made-up run. */
export function fromRow(row: ReadRow): IndexedRun {
  const body = parseBody(row.body);
  if (body === undefined || !(RUN_STATUSES as readonly string[]).includes(row.status))
    throw new Error(`the archived run ${JSON.stringify(row.id)} is unreadable (table ${RUNS_TABLE})`);
  return {
    id: row.id,
    tenant: row.tenant,
    definitionId: row.kind,
    definitionVersion: body.definitionVersion,
    status: row.status as RunStatus,
    phase: body.phase,
    createdAt: body.createdAt,
    updatedAt: body.updatedAt,
    attention: body.attention,
    waitingApproval: body.waitingApproval,
    position: row.position,
  };
}

function parseBody(text: string): Body | undefined {
  try {
    const body = JSON.parse(text) as Partial<Body> | null;
    if (body === null || typeof body !== 'object') return undefined;
    const valid =
      Number.isSafeInteger(body.definitionVersion) &&
      typeof body.createdAt === 'string' &&
      typeof body.updatedAt === 'string' &&
      (body.phase === 'execute' || body.phase === 'compensate') &&
      Array.isArray(body.waitingApproval) &&
      body.waitingApproval.every((id) => typeof id === 'string') &&
      (body.attention === null || typeof body.attention === 'object');
    return valid ? (body as Body) : undefined;
  } catch {
    return undefined;
  }
}
