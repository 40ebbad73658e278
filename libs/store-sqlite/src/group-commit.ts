import { ExpectedVersionConflictError } from '@orchestron/event-store';
import type { AppendResult, RecordedEvent } from '@orchestron/event-store';
import { isExpectedRevisionSatisfied } from '@orchestron/event-store/adapter';
import type { PreparedAppend, PreparedEvent } from '@orchestron/event-store/adapter';
import type { EventsTable, StreamHead } from './events-table.ts';
import type { SqliteDatabase } from './schema.ts';
import { isUniqueViolation, translateSqliteError } from './sqlite-errors.ts';

export interface GroupCommitDependencies {
  readonly db: SqliteDatabase;
  readonly table: EventsTable;
  readonly now: () => Date;
  /** Whether anyone needs the committed events; when nobody does, they are not built. */
  readonly wantsCommitted: () => boolean;
  /** Called synchronously right after COMMIT, with the committed events in position order. */
  readonly onCommitted: (events: readonly RecordedEvent[]) => void;
}

export interface GroupCommit {
  /** Queues an append for the next flush; resolves only once its transaction has committed. */
  enqueue(append: PreparedAppend): Promise<AppendResult>;
  /** Commits everything queued now, synchronously. */
  flush(): void;
}

interface PendingAppend {
  readonly append: PreparedAppend;
  readonly resolve: (result: AppendResult) => void;
  readonly reject: (error: unknown) => void;
}

/** How many streams' heads a writer remembers, so that an append need not look its stream's head up. */
const REMEMBERED_HEADS = 10_000;

type Outcome =
  | { readonly kind: 'appended'; readonly result: AppendResult; readonly events: readonly RecordedEvent[] }
  | { readonly kind: 'conflict'; readonly error: ExpectedVersionConflictError };

/**
 * Appends that arrive in the same tick share one IMMEDIATE transaction, and so one fsync. Each append is checked
 * against the database plus the appends before it in the batch, inside a savepoint of its own, so a conflicting
 * append fails alone. Anything else that goes wrong fails the whole batch, and nothing of it is recorded.
 */
export function createGroupCommit(deps: GroupCommitDependencies): GroupCommit {
  const { db, table } = deps;
  const begin = db.prepare('BEGIN IMMEDIATE');
  const commit = db.prepare('COMMIT');
  const rollback = db.prepare('ROLLBACK');
  const savepoint = db.prepare('SAVEPOINT append');
  const release = db.prepare('RELEASE append');
  const rollbackToSavepoint = db.prepare('ROLLBACK TO append');
  let queue: PendingAppend[] = [];
  let scheduled = false;
  // The heads this writer committed last, most recent last; a run's stream is appended to a few times in a row.
  const known = new Map<string, StreamHead>();

  function remember(streamId: string, head: StreamHead): void {
    known.delete(streamId);
    known.set(streamId, head);
    if (known.size > REMEMBERED_HEADS) known.delete(known.keys().next().value as string);
  }

  /**
   * Applies one append in the batch's transaction. The head it checks against is the batch's own, else the one
   * this writer last committed (`known`), else the table's. A remembered head can only be behind the table's
   * (events are never deleted, and only another process could have appended since), so when the check or the
   * insert fails on one, the append is tried once more on the table's head before it counts as a conflict. An
   * append that expects no stream is not looked up at all: inserting revision 0 fails if the stream exists.
   */
  function apply(
    append: PreparedAppend,
    heads: Map<string, StreamHead | undefined>,
    recordedAt: string,
    build: boolean,
  ): Outcome {
    const { streamId } = append;
    if (heads.has(streamId)) return applyOn(append, heads.get(streamId), heads, recordedAt, build);
    const remembered = append.events.length > 0 ? known.get(streamId) : undefined;
    if (remembered !== undefined) {
      const outcome = applyOn(append, remembered, heads, recordedAt, build);
      if (outcome.kind === 'appended') return outcome;
      known.delete(streamId);
      heads.delete(streamId);
    } else if (append.expectedRevision === 'no_stream' && append.events.length > 0) {
      // A stream exists exactly when its revision 0 does, so inserting revision 0 is the check.
      return applyOn(append, undefined, heads, recordedAt, build);
    }
    return applyOn(append, table.head(streamId), heads, recordedAt, build);
  }

  function applyOn(
    append: PreparedAppend,
    head: StreamHead | undefined,
    heads: Map<string, StreamHead | undefined>,
    recordedAt: string,
    build: boolean,
  ): Outcome {
    const { streamId, expectedRevision } = append;
    const actual = head?.revision ?? null;
    if (!isExpectedRevisionSatisfied(expectedRevision, actual)) {
      return { kind: 'conflict', error: new ExpectedVersionConflictError(streamId, expectedRevision, actual) };
    }
    if (append.events.length === 0) {
      return {
        kind: 'appended',
        result: { nextExpectedRevision: actual ?? -1, position: head?.position ?? 0 },
        events: [],
      };
    }
    savepoint.run();
    try {
      const inserted = insertAll(append, actual ?? -1, recordedAt, build);
      release.run();
      heads.set(streamId, inserted.head);
      return {
        kind: 'appended',
        result: { nextExpectedRevision: inserted.head.revision, position: inserted.head.position },
        events: inserted.events,
      };
    } catch (error) {
      // Reached when the stream has moved past the head this append was tried on: a remembered head (another
      // process appended since; apply then tries again) or none (the append expected no stream, and there is one).
      if (!isUniqueViolation(error)) throw error;
      rollbackToSavepoint.run();
      release.run();
      heads.delete(streamId);
      return {
        kind: 'conflict',
        error: new ExpectedVersionConflictError(streamId, expectedRevision, table.head(streamId)?.revision ?? null),
      };
    }
  }

  function insertAll(append: PreparedAppend, lastRevision: number, recordedAt: string, build: boolean) {
    const events: RecordedEvent[] = [];
    let head: StreamHead = { revision: lastRevision, position: 0 };
    for (const event of append.events) {
      const revision = head.revision + 1;
      const position = table.insert({ ...event, streamId: append.streamId, revision, recordedAt });
      head = { revision, position };
      if (build) events.push(toRecordedEvent(append.streamId, revision, position, event, recordedAt));
    }
    return { head, events };
  }

  function commitBatch(batch: readonly PendingAppend[]): Outcome[] {
    const build = deps.wantsCommitted();
    const recordedAt = deps.now().toISOString();
    const heads = new Map<string, StreamHead | undefined>();
    begin.run();
    try {
      const outcomes = batch.map((pending) => apply(pending.append, heads, recordedAt, build));
      commit.run();
      for (const [streamId, head] of heads) if (head !== undefined) remember(streamId, head);
      return outcomes;
    } catch (error) {
      // A failed COMMIT or I/O error may already have ended the transaction.
      if (db.inTransaction) rollback.run();
      throw error;
    }
  }

  function flush(): void {
    scheduled = false;
    const batch = queue;
    queue = [];
    if (batch.length === 0) return;
    let outcomes: Outcome[];
    try {
      outcomes = commitBatch(batch);
    } catch (error) {
      const failure = translateSqliteError(error);
      for (const pending of batch) pending.reject(failure);
      return;
    }
    const committed: RecordedEvent[] = [];
    batch.forEach((pending, index) => {
      const outcome = outcomes[index];
      if (outcome === undefined) return;
      if (outcome.kind === 'conflict') {
        pending.reject(outcome.error);
        return;
      }
      pending.resolve(outcome.result);
      for (const event of outcome.events) committed.push(event);
    });
    deps.onCommitted(committed);
  }

  return {
    enqueue(append) {
      return new Promise<AppendResult>((resolve, reject) => {
        queue.push({ append, resolve, reject });
        if (scheduled) return;
        scheduled = true;
        setImmediate(flush);
      });
    },
    flush,
  };
}

function toRecordedEvent(
  streamId: string,
  revision: number,
  position: number,
  event: PreparedEvent,
  recordedAt: string,
): RecordedEvent {
  return Object.freeze({
    id: event.id,
    streamId,
    revision,
    position,
    type: event.type,
    data: JSON.parse(event.dataJson) as unknown,
    metadata: JSON.parse(event.metadataJson) as Record<string, unknown>,
    recordedAt,
  });
}
