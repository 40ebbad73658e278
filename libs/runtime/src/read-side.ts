import type { EventStore, RecordedEvent, Subscription } from '@orchestron/event-store';
import { DefinitionRegistry } from './definition-registry.ts';
import type { Provision, Registered } from './definition-registry.ts';
import { silentLogger } from './ports.ts';
import type { Logger } from './ports.ts';
import { ReadCheckpoints } from './read-checkpoints.ts';
import type { ReadCheckpointSettings } from './read-checkpoints.ts';
import type { ReadSideCapture } from './read-side-codec.ts';
import { readLogFrom } from './replay.ts';
import { RUN_STREAM_PREFIX, RunIndex } from './run-index.ts';
import { RunWaits } from './run-waits.ts';

export interface ReadSideOptions {
  /** Told of each event after the models have it. */
  readonly onEvent?: (event: RecordedEvent) => void;
  readonly logger?: Logger;
  /**
   * When to save the models to the store's checkpoints, so the next start catches up from there instead of from
   * position 0 (defaults: READ_CHECKPOINT_DEFAULTS). false: never; a store without checkpoints never does either.
   */
  readonly checkpoints?: ReadCheckpointSettings | false;
  /** false: keep every run in memory even when the store has read rows to archive ended runs in. */
  readonly archive?: false;
  /** What a definition registered through this read side needs before it is recorded (its command topics). */
  readonly provision?: Provision;
  /** Told of every registration (see Registered). */
  readonly registered?: Registered;
}

/**
 * The read models every process keeps from the global log: the run index and the definition registry. The engine
 * and the API's RemoteRuns share it, with the same catch-up and the same live subscription. The first catch-up
 * starts from the store's checkpoint when there is one it can trust, and from position 0 otherwise; either way
 * the models end up as a replay of the whole log would leave them (guarantee 9).
 */
export class ReadSide {
  readonly index: RunIndex;
  readonly definitions: DefinitionRegistry;
  /** Long polls on runs, woken by the events this read side projects. */
  readonly waits: RunWaits;
  private readonly store: EventStore;
  private readonly onEvent: (event: RecordedEvent) => void;
  private readonly checkpoints: ReadCheckpoints | undefined;
  private lastEventId = '';
  private restored: Promise<void> | undefined;
  private subscription: Subscription | undefined;

  constructor(store: EventStore, options: ReadSideOptions = {}) {
    this.store = store;
    this.index = new RunIndex({
      ...(store.readRows !== undefined && options.archive !== false ? { archive: store.readRows } : {}),
      ...(options.logger !== undefined ? { logger: options.logger } : {}),
      onLateChange: (runId) => this.waits.notice(runId),
    });
    this.waits = new RunWaits(this.index);
    this.onEvent = options.onEvent ?? (() => undefined);
    this.definitions = new DefinitionRegistry(store, options.provision, options.registered);
    const checkpoints = store.checkpoints;
    this.checkpoints =
      checkpoints === undefined || options.checkpoints === false
        ? undefined
        : new ReadCheckpoints({
            checkpoints,
            log: store,
            logger: options.logger ?? silentLogger,
            settings: options.checkpoints ?? {},
            capture: async () => {
              // Checked and captured in one turn of the loop: an event projected during the settle may have
              // started another fixup, and a capture past it would skip that event for good.
              do await this.index.settle();
              while (this.index.pendingFixups > 0);
              return this.capture();
            },
          });
  }

  /** Reads the global log past what the models have seen (the first time, past their checkpoint). */
  async catchUp(): Promise<void> {
    await (this.restored ??= this.restore());
    await readLogFrom(
      this.store,
      () => this.index.position,
      (event) => this.project(event),
    );
    await this.index.caughtUp();
  }

  /** Catches up, then follows the log as it grows. */
  async follow(): Promise<void> {
    await this.catchUp();
    this.subscription ??= this.store.subscribeToAll({ after: this.index.position }, (event) => this.project(event));
  }

  /** Stops following, then saves the models' checkpoint if they moved since the last one. */
  async close(): Promise<void> {
    this.waits.close();
    await this.subscription?.close();
    this.subscription = undefined;
    await this.restored;
    await this.index.close();
    await this.checkpoints?.close();
  }

  /** What the models hold now, at one position (see ReadSideCapture). */
  capture(): ReadSideCapture {
    const { position, runs, counts } = this.index.capture();
    return {
      position,
      lastEventId: this.lastEventId,
      runs,
      counts,
      definitions: this.definitions.capture(),
    };
  }

  private async restore(): Promise<void> {
    const restored = await this.checkpoints?.load();
    if (restored !== undefined) {
      this.index.restore(restored);
      this.definitions.restore(restored.definitions);
      this.lastEventId = restored.lastEventId;
    }
    this.checkpoints?.begin(this.index.position);
  }

  private project(event: RecordedEvent): void {
    // Two catch-ups at once (a start and a partition assignment) read the same events: each is projected once.
    if (event.position <= this.index.position) return;
    this.index.apply(event);
    this.lastEventId = event.id;
    this.definitions.apply(event);
    this.onEvent(event);
    if (event.streamId.startsWith(RUN_STREAM_PREFIX)) this.waits.notice(event.streamId.slice(RUN_STREAM_PREFIX.length));
    this.checkpoints?.projected();
  }
}
