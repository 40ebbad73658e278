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

  function apply(
    append: PreparedAppend,
    heads: Map<string, StreamHead | undefined>,
    recordedAt: string,
    build: boolean,
  ): Outcome {
    const { streamId, expectedRevision } = append;
    const head = heads.has(streamId) ? heads.get(streamId) : table.head(streamId);
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
      // Unreachable while every writer checks inside BEGIN IMMEDIATE; kept so a foreign writer still yields a conflict.
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
