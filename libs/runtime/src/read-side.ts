import type { EventStore, RecordedEvent, Subscription } from '@orchestron/event-store';
import { DefinitionRegistry } from './definition-registry.ts';
import { readLogFrom } from './replay.ts';
import { RUN_STREAM_PREFIX, RunIndex } from './run-index.ts';
import { RunWaits } from './run-waits.ts';

/**
 * The read models every process keeps from the global log: the run index and the definition registry. The engine
 * and the API's RemoteRuns share it, with the same catch-up and the same live subscription; `onEvent` is told of
 * each event after the models have it.
 */
export class ReadSide {
  readonly index = new RunIndex();
  readonly definitions: DefinitionRegistry;
  /** Long polls on runs, woken by the events this read side projects. */
  readonly waits = new RunWaits(this.index);
  private readonly store: EventStore;
  private readonly onEvent: (event: RecordedEvent) => void;
  private subscription: Subscription | undefined;

  constructor(store: EventStore, onEvent: (event: RecordedEvent) => void = () => undefined) {
    this.store = store;
    this.onEvent = onEvent;
    this.definitions = new DefinitionRegistry(store);
  }

  /** Reads the global log past what the models have seen. */
  catchUp(): Promise<void> {
    return readLogFrom(
      this.store,
      () => this.index.position,
      (event) => this.project(event),
    );
  }

  /** Catches up, then follows the log as it grows. */
  async follow(): Promise<void> {
    await this.catchUp();
    this.subscription ??= this.store.subscribeToAll({ after: this.index.position }, (event) => this.project(event));
  }

  async close(): Promise<void> {
    this.waits.close();
    await this.subscription?.close();
    this.subscription = undefined;
  }

  private project(event: RecordedEvent): void {
    this.index.apply(event);
    this.definitions.apply(event);
    this.onEvent(event);
    if (event.streamId.startsWith(RUN_STREAM_PREFIX)) this.waits.notice(event.streamId.slice(RUN_STREAM_PREFIX.length));
  }
}
