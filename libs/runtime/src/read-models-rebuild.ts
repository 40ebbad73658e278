import type { EventStore, RecordedEvent } from '@orchestron/event-store';
import { isTerminalRun } from '@orchestron/workflow-core';
import { performance } from 'node:perf_hooks';
import { READ_CHECKPOINT_DEFAULTS } from './read-checkpoints.ts';
import { ReadSide } from './read-side.ts';
import type { ReadSideOptions } from './read-side.ts';
import { encodeReadSide } from './read-side-codec.ts';
import type { ReadSideCapture } from './read-side-codec.ts';
import { RunArchive } from './run-archive.ts';

/** How far a replay is: the position reached, and the last position of the log it replays. */
export type RebuildProgress = (position: number, last: number) => void;

export interface RebuiltReadModels {
  /** Every run in memory (nothing archived), the counts and the definitions, at the log's last position. */
  readonly capture: ReadSideCapture;
  readonly events: number;
  readonly ms: number;
}

export interface SavedReadModels {
  /** Ended runs written to the store's read rows. */
  readonly archived: number;
  /** Runs in the checkpoint (those still moving; all of them in a store without read rows). */
  readonly inCheckpoint: number;
  readonly checkpoint: string;
}

const PROGRESS_EVERY = 1_000;
const ARCHIVE_BATCH = 1_000;

/**
 * The last position of the log: readAll only reads forwards, so this doubles, then halves, to the first position
 * with nothing after it (about 2·log2(n) reads of one event).
 */
export async function lastLogPosition(store: EventStore): Promise<number> {
  const hasAfter = async (position: number): Promise<boolean> =>
    (await store.readAll({ after: position, maxCount: 1 })).length > 0;
  if (!(await hasAfter(0))) return 0;
  let low = 0;
  let high = 1;
  while (await hasAfter(high)) [low, high] = [high, high * 2];
  // Something after `low`, nothing after `high`.
  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2);
    if (await hasAfter(middle)) low = middle;
    else high = middle;
  }
  return high;
}

/** The store, read up to `last` and never written: what a rebuild or a verify reads at one position. */
export function logUpTo(
  store: EventStore,
  last: number,
  extras: Pick<EventStore, 'checkpoints' | 'readRows'> = {},
): EventStore {
  return {
    append: () => Promise.reject(new Error('a rebuild of the read models never appends to the log')),
    readStream: (streamId, options) => store.readStream(streamId, options),
    readAll: async (options) => (await store.readAll(options)).filter((event) => event.position <= last),
    streamRevision: (streamId) => store.streamRevision(streamId),
    subscribeToAll: () => {
      throw new Error('a rebuild of the read models reads the log, it does not follow it');
    },
    close: async () => undefined,
    ...extras,
  };
}

/**
 * Every read model replayed from position 0 to the log's last position, in memory only: no checkpoint is read or
 * saved and no row archived. The result is what a process with no checkpoint would hold (guarantee 9).
 */
export async function rebuildReadModels(
  store: EventStore,
  onProgress: RebuildProgress = () => undefined,
  last?: number,
): Promise<RebuiltReadModels> {
  const started = performance.now();
  const upTo = last ?? (await lastLogPosition(store));
  let events = 0;
  const onEvent = (event: RecordedEvent): void => {
    events += 1;
    if (events % PROGRESS_EVERY === 0) onProgress(event.position, upTo);
  };
  const options: ReadSideOptions = { checkpoints: false, archive: false, onEvent };
  const side = new ReadSide(logUpTo(store, upTo), options);
  await side.catchUp();
  const capture = side.capture();
  await side.close();
  onProgress(capture.position, upTo);
  return { capture, events, ms: Math.round(performance.now() - started) };
}

/**
 * Makes the rebuilt models the persisted ones: the ended runs go to the read rows (a row further along than the
 * rebuilt run is left as the port says), then the checkpoint is replaced by the rest. Rows first: a checkpoint
 * saved before them would leave the ended runs nowhere if the writing stopped halfway.
 */
export async function saveRebuiltModels(
  store: EventStore,
  capture: ReadSideCapture,
  name: string = READ_CHECKPOINT_DEFAULTS.name,
): Promise<SavedReadModels> {
  const checkpoints = store.checkpoints;
  if (checkpoints === undefined) throw new Error('this event store keeps no checkpoints: there is nothing to save');
  const ended = store.readRows === undefined ? [] : capture.runs.filter((run) => isTerminalRun(run.status));
  if (store.readRows !== undefined) {
    const archive = new RunArchive(store.readRows);
    for (let i = 0; i < ended.length; i += ARCHIVE_BATCH) await archive.put(ended.slice(i, i + ARCHIVE_BATCH));
  }
  const kept = store.readRows === undefined ? capture.runs : capture.runs.filter((run) => !isTerminalRun(run.status));
  const state = await encodeReadSide({ ...capture, runs: kept });
  await checkpoints.save(name, { position: capture.position, state });
  return { archived: ended.length, inCheckpoint: kept.length, checkpoint: name };
}
