import { ExpectedVersionConflictError } from '@orchestron/event-store';
import type { AppendResult, RecordedEvent } from '@orchestron/event-store';
import type { PreparedAppend } from '@orchestron/event-store/adapter';
import type { AppendRowOutcome, EventsTable } from './events-table.ts';
import { guarded, isUniqueViolation, translatePostgresError } from './postgres-errors.ts';
import { consecutive } from './rows-notice.ts';

export interface AppendBatcherDependencies {
  readonly table: EventsTable;
  readonly now: () => Date;
  /** Called with the last position of each batch that recorded events, once it committed. */
  readonly onCommitted: (position: number) => void;
  /**
   * Whether anyone wants the events themselves; then each batch that recorded events goes to `onAppended`
   * instead, as the table would give them back (consecutive positions, in order).
   */
  readonly wantsEvents?: () => boolean;
  readonly onAppended?: (events: readonly RecordedEvent[]) => void;
  /** Around each batch's transaction: started before it goes out, ended once its outcome is handed on. */
  readonly onBatchStarted?: () => void;
  readonly onBatchEnded?: () => void;
}

export interface AppendBatcher {
  /** Queues an append for the next batch; resolves only once its transaction has committed. */
  enqueue(append: PreparedAppend): Promise<AppendResult>;
  /** Resolves once every queued append has been answered. */
  drain(): Promise<void>;
}

interface PendingAppend {
  readonly append: PreparedAppend;
  readonly resolve: (result: AppendResult) => void;
  readonly reject: (error: unknown) => void;
}

/** Bounds one call's parameters, so a burst of large events is sent as several batches. */
const MAX_BATCH_APPENDS = 1_000;
const MAX_BATCH_JSON_CHARS = 8 * 1024 * 1024;

/**
 * Every append takes the schema's global lock until its commit (see migrations.ts), so a process gains nothing
 * from sending appends side by side: it sends one batch at a time instead, made of everything that queued up
 * meanwhile, and the batch shares one transaction and one WAL flush. Each append of a batch is checked on its
 * own, so a conflicting append fails alone; anything else that goes wrong fails the whole batch, and nothing
 * of it is recorded.
 */
export function createAppendBatcher(deps: AppendBatcherDependencies): AppendBatcher {
  let queue: PendingAppend[] = [];
  let running: Promise<void> | undefined;

  function take(): PendingAppend[] {
    let chars = 0;
    let count = 0;
    while (count < queue.length && count < MAX_BATCH_APPENDS && (count === 0 || chars < MAX_BATCH_JSON_CHARS)) {
      for (const event of queue[count]?.append.events ?? []) chars += event.dataJson.length + event.metadataJson.length;
      count += 1;
    }
    const batch = queue.slice(0, count);
    queue = queue.slice(count);
    return batch;
  }

  async function run(): Promise<void> {
    // Lets the appends of the current tick join the first batch.
    await new Promise((resolve) => setImmediate(resolve));
    for (;;) {
      const batch = take();
      if (batch.length === 0) {
        // Cleared in the same synchronous step that saw the queue empty, so no enqueue is left behind.
        running = undefined;
        return;
      }
      deps.onBatchStarted?.();
      try {
        await commit(batch);
      } finally {
        deps.onBatchEnded?.();
      }
    }
  }

  async function commit(batch: readonly PendingAppend[]): Promise<void> {
    let recordedAt: string;
    try {
      recordedAt = deps.now().toISOString();
    } catch (error) {
      // `now` is the caller's: what it throws is passed on as it is.
      for (const pending of batch) pending.reject(error);
      return;
    }
    let outcomes: AppendRowOutcome[];
    try {
      outcomes = await deps.table.appendBatch(
        batch.map((pending) => pending.append),
        recordedAt,
      );
    } catch (error) {
      await fail(batch, error);
      return;
    }
    let last = 0;
    const recorded: RecordedEvent[] | undefined =
      deps.onAppended !== undefined && deps.wantsEvents?.() === true ? [] : undefined;
    batch.forEach((pending, index) => {
      const outcome = outcomes[index];
      if (outcome === undefined) return;
      if (outcome.kind === 'conflict') {
        const { streamId, expectedRevision } = pending.append;
        pending.reject(new ExpectedVersionConflictError(streamId, expectedRevision, outcome.actual));
        return;
      }
      pending.resolve({ nextExpectedRevision: outcome.revision, position: outcome.position });
      if (pending.append.events.length > 0) last = Math.max(last, outcome.position);
      recorded?.push(...recordedEvents(pending.append, outcome.revision, outcome.position, recordedAt));
    });
    if (last === 0) return;
    // One transaction holds the global lock, so a batch's positions are consecutive; checked, not assumed.
    if (recorded !== undefined && consecutive(recorded)) deps.onAppended?.(recorded);
    else deps.onCommitted(last);
  }

  async function fail(batch: readonly PendingAppend[], error: unknown): Promise<void> {
    // Unreachable while every writer goes through append_events; kept so a foreign writer racing on the
    // unique (stream_id, revision) yields a conflict, for the one append it concerns.
    if (isUniqueViolation(error)) {
      if (batch.length > 1) {
        for (const pending of batch) await commit([pending]);
        return;
      }
      const [pending] = batch;
      if (pending === undefined) return;
      const { streamId, expectedRevision } = pending.append;
      try {
        const actual = await guarded('read the stream revision', () => deps.table.streamRevision(streamId));
        pending.reject(new ExpectedVersionConflictError(streamId, expectedRevision, actual));
      } catch (readError) {
        pending.reject(readError);
      }
      return;
    }
    const failure = translatePostgresError(error, 'append');
    for (const pending of batch) pending.reject(failure);
  }

  return {
    enqueue(append) {
      return new Promise<AppendResult>((resolve, reject) => {
        queue.push({ append, resolve, reject });
        running ??= run();
      });
    },
    async drain() {
      await running;
    },
  };
}

/** An append's events as the table records them: the last one at `revision` and `position`, each before it one less. */
function recordedEvents(
  append: PreparedAppend,
  revision: number,
  position: number,
  recordedAt: string,
): RecordedEvent[] {
  const count = append.events.length;
  return append.events.map((event, index) => ({
    id: event.id,
    streamId: append.streamId,
    revision: revision - (count - 1 - index),
    position: position - (count - 1 - index),
    type: event.type,
    data: JSON.parse(event.dataJson) as unknown,
    metadata: JSON.parse(event.metadataJson) as Record<string, unknown>,
    recordedAt,
  }));
}
