import { createHash } from 'node:crypto';
import type { CheckpointStore, EventStore, RecordedEvent } from '@orchestron/event-store';
import { fold } from '@orchestron/workflow-core';
import type { RunData, RunState, WorkflowEvent } from '@orchestron/workflow-core';
import { describeError } from './ports.ts';
import type { Logger } from './ports.ts';
import { runStream } from './run-index.ts';

/** Bumped whenever what a run snapshot holds changes: a snapshot of another format is not used. */
export const RUN_SNAPSHOT_FORMAT = 4; // 2: RunData.forkedFrom; 3: a waiting approval's escalatedTo; 4: usage, budget
export const DEFAULT_SNAPSHOT_EVERY = 100;

/** A run's state and the revision of the last event folded into it (null: no stream). */
export interface LoadedRun {
  readonly state: RunState;
  readonly revision: number | null;
}

interface Snapshot {
  readonly format: number;
  readonly revision: number;
  /** Digest of the type and data of the event at `revision`: the snapshot is only used on the stream it was taken of. */
  readonly event: string;
  readonly state: RunData;
}

export interface RunSnapshotsOptions {
  readonly store: EventStore;
  readonly checkpoints: CheckpointStore;
  readonly logger: Logger;
  /** A snapshot is saved each time a run's stream passes a multiple of this many events. */
  readonly everyEvents: number;
}

export const snapshotName = (runId: string): string => `snapshot:${runStream(runId)}`;

export interface RunSnapshotSettings {
  /** A snapshot each time a run's stream passes a multiple of this many events. Default 100. */
  readonly everyEvents?: number;
}

/** Snapshots on `store` as `settings` say; undefined when they are off or the store keeps no checkpoints. */
export function runSnapshotsFor(
  store: EventStore,
  logger: Logger,
  settings: RunSnapshotSettings | false | undefined,
): RunSnapshots | undefined {
  const checkpoints = store.checkpoints;
  if (settings === false || checkpoints === undefined) return undefined;
  return new RunSnapshots({ store, checkpoints, logger, everyEvents: settings?.everyEvents ?? DEFAULT_SNAPSHOT_EVERY });
}

/**
 * Snapshots of run states in the store's checkpoints (one per run stream, at a known revision), so loading a long
 * run reads its snapshot and the events after it rather than its whole history. A snapshot is only a shortcut:
 * one that is missing, unreadable, of another format or not of this stream (the event at its revision differs) is
 * passed over, and the whole stream is folded, as without snapshots (guarantee 9: the state is the fold either way).
 */
export class RunSnapshots {
  private readonly options: RunSnapshotsOptions;

  constructor(options: RunSnapshotsOptions) {
    if (!Number.isSafeInteger(options.everyEvents) || options.everyEvents < 1)
      throw new TypeError('run snapshots: everyEvents must be a positive integer');
    this.options = options;
  }

  /** A snapshot is saved each time a run's stream passes a multiple of this many events. */
  get everyEvents(): number {
    return this.options.everyEvents;
  }

  async load(runId: string): Promise<LoadedRun> {
    const snapshot = await this.read(runId);
    const stream = runStream(runId);
    if (snapshot !== undefined) {
      const [at, ...tail] = await this.options.store.readStream(stream, { fromRevision: snapshot.revision });
      if (at?.revision === snapshot.revision && digestOf(at) === snapshot.event)
        return this.folded(runId, tail, snapshot.state, at);
      this.options.logger.warn('run snapshot is not of this stream; folding the whole stream', {
        runId,
        revision: snapshot.revision,
      });
    }
    return this.folded(runId, await this.options.store.readStream(stream), undefined, undefined);
  }

  /** Told of each append to a run: saves a snapshot, off the caller's path, when it passed a multiple of N events. */
  appended(runId: string, state: RunData, before: number | null, last: RecordedEventLike): void {
    const every = this.options.everyEvents;
    if (Math.floor((last.revision + 1) / every) > Math.floor(((before ?? -1) + 1) / every))
      this.saveLater(runId, state, last);
  }

  private folded(
    runId: string,
    events: readonly RecordedEvent[],
    from: RunData | undefined,
    at: RecordedEvent | undefined,
  ): LoadedRun {
    const state = fold(
      events.map((e) => ({ type: e.type, data: e.data }) as WorkflowEvent),
      from,
    );
    const last = events.at(-1) ?? at;
    // A load that folded N events or more leaves a snapshot, so the next one does not fold them again.
    if (last !== undefined && events.length >= this.options.everyEvents && state.status !== 'none')
      this.saveLater(runId, state, last);
    return { state, revision: last?.revision ?? null };
  }

  private saveLater(runId: string, state: RunData, last: RecordedEventLike): void {
    const snapshot: Snapshot = { format: RUN_SNAPSHOT_FORMAT, revision: last.revision, event: digestOf(last), state };
    this.options.checkpoints
      .save(snapshotName(runId), { position: last.revision, state: JSON.stringify(snapshot) })
      .catch((error: unknown) =>
        this.options.logger.warn('could not save a run snapshot; loads fold from the previous one', {
          runId,
          revision: last.revision,
          error: describeError(error),
        }),
      );
  }

  private async read(runId: string): Promise<Snapshot | undefined> {
    try {
      const stored = await this.options.checkpoints.load(snapshotName(runId));
      if (stored === undefined) return undefined;
      const snapshot = JSON.parse(stored.state) as Partial<Snapshot>;
      const usable =
        snapshot.format === RUN_SNAPSHOT_FORMAT &&
        snapshot.revision === stored.position &&
        typeof snapshot.event === 'string' &&
        typeof snapshot.state === 'object' &&
        snapshot.state !== null &&
        snapshot.state.runId === runId;
      if (usable) return snapshot as Snapshot;
      this.options.logger.warn('run snapshot ignored: not of this format or run', { runId });
    } catch (error) {
      this.options.logger.warn('run snapshot ignored', { runId, error: describeError(error) });
    }
    return undefined;
  }
}

/** What a snapshot needs of the event it is taken at; an append's own event serves before it is read back. */
export interface RecordedEventLike {
  readonly revision: number;
  readonly type: string;
  readonly data: unknown;
}

function digestOf(event: RecordedEventLike): string {
  return createHash('sha256').update(event.type).update('\n').update(JSON.stringify(event.data)).digest('hex');
}
