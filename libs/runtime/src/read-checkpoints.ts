import type { CheckpointStore, EventStore } from '@orchestron/event-store';
import { performance } from 'node:perf_hooks';
import { describeError } from './ports.ts';
import type { Logger } from './ports.ts';
import { decodeReadSide, encodeReadSide } from './read-side-codec.ts';
import type { ReadSideCapture } from './read-side-codec.ts';

export interface ReadCheckpointSettings {
  /** Name of the checkpoint in the store. Every process with the same models may share it. Default `read-side`. */
  readonly name?: string;
  /** Saves once this many events were projected since the last save. Default 10,000. */
  readonly everyEvents?: number;
  /** Saves this often when anything was projected since the last save, in ms. Default 60,000. */
  readonly everyMs?: number;
}

export const READ_CHECKPOINT_DEFAULTS: Required<ReadCheckpointSettings> = {
  name: 'read-side',
  everyEvents: 10_000,
  everyMs: 60_000,
};

/** What the log says when a checkpoint is restored, and when one is ignored (fields: checkpoint, reason). */
export const CHECKPOINT_RESTORED = 'read models restored from their checkpoint';
export const CHECKPOINT_IGNORED = 'read models checkpoint ignored; replaying the log from position 0';

export interface ReadCheckpointsDeps {
  readonly checkpoints: CheckpointStore;
  /** The log the checkpoint was taken of, to check that it still is that log. */
  readonly log: EventStore;
  readonly logger: Logger;
  readonly settings: ReadCheckpointSettings;
  /** The models as they stand (cheap: see ReadSideCapture), once what they had under way is done. */
  readonly capture: () => Promise<ReadSideCapture>;
}

/**
 * When the read side saves its models and how it gets them back. Loading never throws: a checkpoint that cannot
 * be used (unreadable, corrupt, of another format, ahead of the store or of another log) is logged and ignored, and
 * the read side replays from 0. Saving runs off the projection's path: `projected` only counts, and the encoding
 * yields to the event loop as it goes. A failed save is logged; the next one tries again.
 */
export class ReadCheckpoints {
  private readonly deps: ReadCheckpointsDeps;
  private readonly settings: Required<ReadCheckpointSettings>;
  private savedPosition = 0;
  private sinceSave = 0;
  private saving: Promise<void> | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private live = false;

  constructor(deps: ReadCheckpointsDeps) {
    this.deps = deps;
    this.settings = { ...READ_CHECKPOINT_DEFAULTS, ...deps.settings };
    const { everyEvents, everyMs } = this.settings;
    if (!Number.isSafeInteger(everyEvents) || everyEvents < 1)
      throw new TypeError('read checkpoints: everyEvents must be a positive integer');
    if (!Number.isSafeInteger(everyMs) || everyMs < 1)
      throw new TypeError('read checkpoints: everyMs must be a positive integer');
  }

  /** The stored checkpoint, when it can be trusted; undefined (after saying why) when the models must replay. */
  async load(): Promise<ReadSideCapture | undefined> {
    const { name } = this.settings;
    const started = performance.now();
    try {
      const stored = await this.deps.checkpoints.load(name);
      if (stored === undefined) return undefined;
      const capture = decodeReadSide(stored.state);
      if (capture.position !== stored.position)
        return this.ignore(`it says position ${capture.position} inside and ${stored.position} outside`);
      const mismatch = await this.mismatchWithLog(capture);
      if (mismatch !== undefined) return this.ignore(mismatch);
      this.deps.logger.info(CHECKPOINT_RESTORED, {
        checkpoint: name,
        position: capture.position,
        runs: capture.runs.length,
        bytes: stored.state.length,
        ms: Math.round(performance.now() - started),
      });
      return capture;
    } catch (error) {
      return this.ignore(describeError(error));
    }
  }

  /** From here on the models may be saved: they hold what was restored (at `position`) or were rebuilt from 0. */
  begin(position: number): void {
    if (this.live) return;
    this.live = true;
    this.savedPosition = position;
    this.timer = setInterval(() => this.saveNow(), this.settings.everyMs);
    this.timer.unref();
  }

  /** Told of each projected event: counting is all it does on the projection's path. */
  projected(): void {
    this.sinceSave += 1;
    if (this.sinceSave >= this.settings.everyEvents && this.saving === undefined) this.saveNow();
  }

  /** Stops the timer and saves what the models hold now, unless it is saved already. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.saving;
    if (this.live) await this.save();
    this.live = false;
  }

  private saveNow(): void {
    if (this.saving !== undefined) return;
    this.saving = this.save().finally(() => {
      this.saving = undefined;
    });
  }

  private async save(): Promise<void> {
    this.sinceSave = 0;
    const started = performance.now();
    let capture: ReadSideCapture | undefined;
    try {
      capture = await this.deps.capture();
      if (capture.position === this.savedPosition) return;
      const state = await encodeReadSide(capture);
      const encoded = performance.now();
      await this.deps.checkpoints.save(this.settings.name, { position: capture.position, state });
      this.savedPosition = capture.position;
      this.deps.logger.info('read models checkpointed', {
        checkpoint: this.settings.name,
        position: capture.position,
        runs: capture.runs.length,
        bytes: state.length,
        ms: Math.round(performance.now() - started),
        writeMs: Math.round(performance.now() - encoded),
      });
    } catch (error) {
      this.deps.logger.warn('could not save the read models checkpoint; the next save tries again', {
        checkpoint: this.settings.name,
        position: capture?.position,
        error: describeError(error),
      });
    }
  }

  /** Why the log is not the one the checkpoint was taken of, or undefined when it is. */
  private async mismatchWithLog(capture: ReadSideCapture): Promise<string | undefined> {
    if (capture.position === 0) return undefined;
    const [event] = await this.deps.log.readAll({ after: capture.position - 1, maxCount: 1 });
    if (event === undefined || event.position !== capture.position)
      return `it is at position ${capture.position}, ahead of the event store (restored from a backup?)`;
    if (event.id !== capture.lastEventId)
      return `the event store holds another event at position ${capture.position} (restored from a backup, or another store?)`;
    return undefined;
  }

  private ignore(reason: string): undefined {
    this.deps.logger.warn(CHECKPOINT_IGNORED, {
      checkpoint: this.settings.name,
      reason,
    });
    return undefined;
  }
}
