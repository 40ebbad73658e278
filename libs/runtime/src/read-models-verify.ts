import type { CheckpointStore, EventStore } from '@orchestron/event-store';
import { MAX_READ_ROWS_PER_LIST } from '@orchestron/event-store';
import type { Logger } from './ports.ts';
import { CHECKPOINT_IGNORED, CHECKPOINT_RESTORED } from './read-checkpoints.ts';
import { diffReadModels } from './read-models-diff.ts';
import type { LiveRun, ReadModelDifference } from './read-models-diff.ts';
import { lastLogPosition, logUpTo, rebuildReadModels } from './read-models-rebuild.ts';
import type { RebuildProgress } from './read-models-rebuild.ts';
import { ReadSide } from './read-side.ts';
import type { ReadSideCapture } from './read-side-codec.ts';
import { fromRow, RUNS_TABLE } from './run-archive.ts';
import { ScratchRows } from './scratch-rows.ts';

export type { ReadModelDifference } from './read-models-diff.ts';

/** What became of the persisted checkpoint when the live models were loaded as a start loads them. */
export type LiveCheckpoint =
  | { readonly status: 'restored'; readonly position: number }
  | { readonly status: 'ignored'; readonly reason: string }
  | { readonly status: 'none' };

export interface ReadModelsVerification {
  /** The log's last position: both sides stand there. */
  readonly position: number;
  readonly events: number;
  readonly runs: number;
  readonly definitions: number;
  readonly checkpoint: LiveCheckpoint;
  /** Runs read from the store's read rows (the live side's archive). */
  readonly archivedRows: number;
  readonly rebuildMs: number;
  readonly differences: readonly ReadModelDifference[];
  /** The rebuilt models, should the caller save them. */
  readonly rebuilt: ReadSideCapture;
}

interface LiveModels {
  readonly capture: ReadSideCapture;
  readonly runs: ReadonlyMap<string, LiveRun>;
  readonly checkpoint: LiveCheckpoint;
  readonly archivedRows: number;
}

/**
 * Compares the persisted read models with a replay of the whole log, both at the log's last position. The
 * persisted side is loaded as a start loads it (the checkpoint, when it can be trusted, caught up from its
 * position, plus the archived runs) but writes nothing: what it would archive or checkpoint stays in memory.
 */
export async function verifyReadModels(
  store: EventStore,
  onProgress?: RebuildProgress,
): Promise<ReadModelsVerification> {
  const last = await lastLogPosition(store);
  const live = await loadLiveModels(store, last);
  const rebuilt = await rebuildReadModels(store, onProgress, last);
  const differences = [
    ...checkpointDifferences(live.checkpoint),
    ...diffReadModels(
      { runs: live.runs, counts: live.capture.counts, definitions: live.capture.definitions },
      rebuilt.capture,
    ),
  ];
  return {
    position: last,
    events: rebuilt.events,
    runs: rebuilt.capture.runs.length,
    definitions: rebuilt.capture.definitions.length,
    checkpoint: live.checkpoint,
    archivedRows: live.archivedRows,
    rebuildMs: rebuilt.ms,
    differences,
    rebuilt: rebuilt.capture,
  };
}

function checkpointDifferences(checkpoint: LiveCheckpoint): ReadModelDifference[] {
  if (checkpoint.status !== 'ignored') return [];
  return [{ model: 'checkpoint', id: 'read-side', field: 'usable', live: checkpoint.reason, rebuilt: 'usable' }];
}

async function loadLiveModels(store: EventStore, last: number): Promise<LiveModels> {
  let checkpoint: LiveCheckpoint = { status: 'none' };
  const logger: Logger = {
    info: (message, fields) => {
      if (message === CHECKPOINT_RESTORED) checkpoint = { status: 'restored', position: Number(fields?.position) };
    },
    warn: (message, fields) => {
      if (message === CHECKPOINT_IGNORED) checkpoint = { status: 'ignored', reason: String(fields?.reason) };
    },
    error: () => undefined,
  };
  const scratch = store.readRows === undefined ? undefined : new ScratchRows(store.readRows);
  const view = logUpTo(store, last, {
    ...(store.checkpoints !== undefined ? { checkpoints: readOnly(store.checkpoints) } : {}),
    ...(scratch !== undefined ? { readRows: scratch } : {}),
  });
  const side = new ReadSide(view, { logger });
  await side.catchUp();
  // Closing archives the ended runs (into the scratch rows) and "saves" the checkpoint (nowhere), as a stop does.
  await side.close();
  const capture = side.capture();
  const runs = new Map<string, LiveRun>();
  const archivedRows = store.readRows === undefined ? 0 : await readArchive(store, runs);
  for (const row of scratch?.written(RUNS_TABLE) ?? []) runs.set(row.id, fromRow(row));
  for (const run of capture.runs) runs.set(run.id, run);
  return { capture, runs, checkpoint, archivedRows };
}

function readOnly(checkpoints: CheckpointStore): CheckpointStore {
  return { load: (name) => checkpoints.load(name), save: async () => undefined };
}

/** Every row of the runs table into `runs`, a row this version cannot read as such; how many rows there were. */
async function readArchive(store: EventStore, runs: Map<string, LiveRun>): Promise<number> {
  const rows = store.readRows;
  if (rows === undefined) return 0;
  let count = 0;
  let beforePosition: number | undefined;
  for (;;) {
    const page = await rows.list(RUNS_TABLE, {
      limit: MAX_READ_ROWS_PER_LIST,
      ...(beforePosition !== undefined ? { beforePosition } : {}),
    });
    for (const row of page) {
      try {
        runs.set(row.id, fromRow(row));
      } catch (error) {
        runs.set(row.id, { unreadable: (error as Error).message });
      }
    }
    count += page.length;
    if (page.length < MAX_READ_ROWS_PER_LIST) return count;
    beforePosition = page[page.length - 1]?.position;
  }
}
