import type { MessageBus, WorkflowStartMessage } from '@orchestron/bus';
import { ExpectedVersionConflictError } from '@orchestron/event-store';
import type { EventStore, RecordedEvent, Subscription } from '@orchestron/event-store';
import { describeError } from './ports.ts';
import type { Logger } from './ports.ts';
import { runStream } from './run-index.ts';
import { StartRelay } from './start-relay.ts';
import type { OutboxStart } from './start-relay.ts';

export type { OutboxStart } from './start-relay.ts';

/*
 * The API's start outbox (docs/adr/0020-start-outbox.md). A start is recorded in the event store, in a stream of
 * its own, before anything is published: from then on it is accepted, whether or not the broker is there. The
 * relay publishes it; the log, followed from a checkpoint, brings back what a crash left unpublished.
 */

export const START_REQUESTED = 'RunStartRequested';
const START_STREAM_PREFIX = 'start-';
export const startStream = (runId: string): string => `${START_STREAM_PREFIX}${runId}`;
/** The checkpoint of the log position below which every recorded start has been published. */
const CHECKPOINT = 'start-outbox';
const CHECKPOINT_EVERY_MS = 1_000;
const REFOLLOW_MS = 1_000;

export interface StartOutboxOptions {
  readonly store: EventStore;
  readonly bus: MessageBus;
  readonly logger: Logger;
  /**
   * A start recorded by another API process (or before this one began) is published here only if its run has not
   * started this long after it was recorded: its own process normally publishes it first.
   */
  readonly graceMs: number;
  readonly maxBackoffMs?: number;
}

export type Recorded = { readonly recorded: true } | { readonly recorded: false; readonly existing: OutboxStart };

export class StartOutbox {
  private readonly options: StartOutboxOptions;
  private readonly relay: StartRelay;
  /** Starts this process recorded and queued itself, until the log brings them past. */
  private readonly own = new Set<string>();
  private seen = 0;
  private saved = -1;
  private subscription: Subscription | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private stopped = false;

  constructor(options: StartOutboxOptions) {
    this.options = options;
    this.relay = new StartRelay({
      bus: options.bus,
      logger: options.logger,
      hasStarted: async (runId) => (await options.store.streamRevision(runStream(runId))) !== null,
      ...(options.maxBackoffMs !== undefined ? { maxBackoffMs: options.maxBackoffMs } : {}),
    });
  }

  /**
   * Records the start once, and queues it for publishing. A start already recorded for the run (a retry with the
   * same idempotency key) is not recorded again: the caller gets the one that is, to compare its input.
   */
  async record(start: OutboxStart, actor: string): Promise<Recorded> {
    const event = { type: START_REQUESTED, data: start, metadata: { actor } };
    try {
      const { position } = await this.options.store.append(startStream(start.runId), [event], {
        expectedRevision: 'no_stream',
      });
      if (position > this.seen) this.own.add(start.runId);
      this.relay.add(start, position, null);
      return { recorded: true };
    } catch (error) {
      if (!(error instanceof ExpectedVersionConflictError)) throw error;
    }
    const [first] = await this.options.store.readStream(startStream(start.runId), { maxCount: 1 });
    const existing = first === undefined ? null : outboxStartOf(first);
    if (existing === null) throw new Error(`stream ${startStream(start.runId)} does not hold a recorded start`);
    return { recorded: false, existing };
  }

  /** Settles when the bus turns out to be away (at once while it is): a caller stops waiting for its run to start. */
  whenUnavailable(): { promise: Promise<void>; cancel(): void } {
    return this.relay.whenUnavailable();
  }

  /** Starts not published yet, of this process and of others it took over. */
  get pending(): number {
    return this.relay.size;
  }

  async start(): Promise<void> {
    const checkpoint = await this.options.store.checkpoints?.load(CHECKPOINT);
    this.seen = checkpoint?.position ?? 0;
    this.saved = this.seen;
    this.follow();
    this.relay.start();
    this.timer = setInterval(() => void this.saveCheckpoint(), CHECKPOINT_EVERY_MS);
    this.timer.unref?.();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.subscription?.close();
    await this.relay.stop();
    await this.saveCheckpoint();
  }

  private follow(): void {
    if (this.stopped) return;
    this.subscription = this.options.store.subscribeToAll(
      {
        after: this.seen,
        onError: (error) => {
          this.options.logger.warn('start outbox: following the log failed; following it again', {
            after: this.seen,
            error: describeError(error),
          });
          setTimeout(() => this.follow(), REFOLLOW_MS).unref?.();
        },
      },
      (event) => this.notice(event),
    );
  }

  private notice(event: RecordedEvent): void {
    this.seen = event.position;
    if (event.type !== START_REQUESTED || !event.streamId.startsWith(START_STREAM_PREFIX)) return;
    const start = outboxStartOf(event);
    if (start === null) {
      this.options.logger.error('start outbox: a recorded start is malformed; it is not published', {
        streamId: event.streamId,
        position: event.position,
      });
      return;
    }
    if (this.own.delete(start.runId)) return;
    this.relay.add(start, event.position, { notBefore: Date.parse(event.recordedAt) + this.options.graceMs });
  }

  /** Never past a start not published yet: after a crash, the log brings it back from here. */
  private async saveCheckpoint(): Promise<void> {
    const checkpoints = this.options.store.checkpoints;
    const lowest = this.relay.lowestPending();
    const position = lowest === undefined ? this.seen : Math.min(this.seen, lowest - 1);
    if (checkpoints === undefined || position === this.saved) return;
    try {
      await checkpoints.save(CHECKPOINT, { position, state: '{}' });
      this.saved = position;
    } catch (error) {
      this.options.logger.warn('start outbox: could not save its checkpoint; it tries again', {
        error: describeError(error),
      });
    }
  }
}

function outboxStartOf(event: RecordedEvent): OutboxStart | null {
  const data = event.data as Partial<OutboxStart> | null;
  const message = data?.message as Partial<WorkflowStartMessage> | undefined;
  if (typeof data?.runId !== 'string' || typeof data.traceparent !== 'string') return null;
  if (message?.type !== 'workflow.start' || typeof message.idempotencyKey !== 'string') return null;
  return { runId: data.runId, message: message as WorkflowStartMessage, traceparent: data.traceparent };
}
