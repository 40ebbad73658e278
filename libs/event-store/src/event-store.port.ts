import type { AuditIndexStore } from './audit-index.port.ts';
import type { CheckpointStore } from './checkpoints.port.ts';
import type { ReadRowStore } from './read-rows.port.ts';
import type { RecordedEvent } from './recorded-event.ts';

export type { RecordedEvent };

/** An event as the caller hands it to the store. `data` and `metadata` must be JSON-serializable. */
export interface EventData {
  readonly id?: string;
  readonly type: string;
  readonly data: unknown;
  readonly metadata?: Readonly<Record<string, unknown>>;
}

/** A number is the revision of the stream's last event. */
export type ExpectedRevision = 'any' | 'no_stream' | 'stream_exists' | number;

export interface AppendOptions {
  /** Defaults to 'any'. */
  readonly expectedRevision?: ExpectedRevision;
}

export interface AppendResult {
  /** Revision of the stream's last event after the append; -1 when an empty append hit a missing stream. */
  readonly nextExpectedRevision: number;
  /** Position of the last appended event (of the stream's last event for an empty append; 0 when there is none). */
  readonly position: number;
}

export interface ReadStreamOptions {
  /** Inclusive. Defaults to the first revision forwards and to the last one backwards. */
  readonly fromRevision?: number;
  readonly direction?: 'forwards' | 'backwards';
  readonly maxCount?: number;
}

export interface ReadAllOptions {
  /** Exclusive global position; 0 (the default) reads from the start. */
  readonly after?: number;
  readonly maxCount?: number;
}

export interface SubscribeToAllOptions {
  /** Exclusive global position to catch up from; 0 (the default) replays everything. */
  readonly after?: number;
  /** Receives the error that stopped the subscription (a throwing handler or a failing read). */
  readonly onError?: (error: unknown) => void;
}

export type EventHandler = (event: RecordedEvent) => void | Promise<void>;

export interface Subscription {
  /**
   * Stops delivery and resolves once the handler is no longer running.
   * Awaiting it from inside the handler would wait for itself: call it without awaiting there.
   */
  close(): Promise<void>;
}

export interface EventStore {
  append(streamId: string, events: readonly EventData[], options?: AppendOptions): Promise<AppendResult>;
  /** Resolves to [] for a stream that does not exist. */
  readStream(streamId: string, options?: ReadStreamOptions): Promise<RecordedEvent[]>;
  readAll(options?: ReadAllOptions): Promise<RecordedEvent[]>;
  /** Revision of the stream's last event, or null when the stream does not exist. */
  streamRevision(streamId: string): Promise<number | null>;
  /**
   * Catches up from `after`, then follows live appends, in global order and without gaps.
   * The handler is awaited one event at a time; an error it throws stops the subscription.
   */
  subscribeToAll(options: SubscribeToAllOptions, handler: EventHandler): Subscription;
  /**
   * Named checkpoints kept beside the log (see CheckpointStore). Absent on an adapter that cannot keep them: read
   * models then replay the log from position 0, as they always could.
   */
  readonly checkpoints?: CheckpointStore;
  /**
   * Tables of read rows kept beside the log (see ReadRowStore). Absent on an adapter that cannot keep them: read
   * models then hold every row in memory.
   */
  readonly readRows?: ReadRowStore;
  /**
   * An index of the run events by who, what and when, kept beside the log (see AuditIndexStore). Absent on an
   * adapter that cannot keep one: audit search is then unavailable.
   */
  readonly auditIndex?: AuditIndexStore;
  /** Idempotent. Later calls to any other method fail with EventStoreClosedError. */
  close(): Promise<void>;
}
