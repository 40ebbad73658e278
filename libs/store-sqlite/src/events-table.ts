import type { RecordedEvent } from '@orchestron/event-store';
import type { SqliteDatabase } from './schema.ts';

interface EventRow {
  readonly position: number;
  readonly stream_id: string;
  readonly revision: number;
  readonly id: string;
  readonly type: string;
  readonly data: string;
  readonly metadata: string;
  readonly recorded_at: string;
}

export interface StreamHead {
  readonly revision: number;
  readonly position: number;
}

export interface NewEventRow {
  readonly streamId: string;
  readonly revision: number;
  readonly id: string;
  readonly type: string;
  readonly dataJson: string;
  readonly metadataJson: string;
  readonly recordedAt: string;
}

/** SQLite's "no limit". */
const UNLIMITED = -1;
const COLUMNS = 'position, stream_id, revision, id, type, data, metadata, recorded_at';

export interface EventsTable {
  /** Returns the global position of the inserted row. */
  insert(row: NewEventRow): number;
  head(streamId: string): StreamHead | undefined;
  readForwards(streamId: string, fromRevision: number, maxCount: number | undefined): RecordedEvent[];
  readBackwards(streamId: string, fromRevision: number, maxCount: number | undefined): RecordedEvent[];
  readAll(after: number, maxCount: number | undefined): RecordedEvent[];
}

export function createEventsTable(db: SqliteDatabase): EventsTable {
  const insert = db.prepare<[string, number, string, string, string, string, string]>(
    'INSERT INTO events (stream_id, revision, id, type, data, metadata, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  const head = db.prepare<[string], StreamHead>(
    'SELECT revision, position FROM events WHERE stream_id = ? ORDER BY revision DESC LIMIT 1',
  );
  const forwards = db.prepare<[string, number, number], EventRow>(
    `SELECT ${COLUMNS} FROM events WHERE stream_id = ? AND revision >= ? ORDER BY revision ASC LIMIT ?`,
  );
  const backwards = db.prepare<[string, number, number], EventRow>(
    `SELECT ${COLUMNS} FROM events WHERE stream_id = ? AND revision <= ? ORDER BY revision DESC LIMIT ?`,
  );
  const all = db.prepare<[number, number], EventRow>(
    `SELECT ${COLUMNS} FROM events WHERE position > ? ORDER BY position ASC LIMIT ?`,
  );

  return {
    insert(row) {
      const { lastInsertRowid } = insert.run(
        row.streamId,
        row.revision,
        row.id,
        row.type,
        row.dataJson,
        row.metadataJson,
        row.recordedAt,
      );
      return Number(lastInsertRowid);
    },
    head(streamId) {
      return head.get(streamId);
    },
    readForwards(streamId, fromRevision, maxCount) {
      return forwards.all(streamId, fromRevision, maxCount ?? UNLIMITED).map(toRecordedEvent);
    },
    readBackwards(streamId, fromRevision, maxCount) {
      return backwards.all(streamId, fromRevision, maxCount ?? UNLIMITED).map(toRecordedEvent);
    },
    readAll(after, maxCount) {
      return all.all(after, maxCount ?? UNLIMITED).map(toRecordedEvent);
    },
  };
}

function toRecordedEvent(row: EventRow): RecordedEvent {
  return {
    id: row.id,
    streamId: row.stream_id,
    revision: row.revision,
    position: row.position,
    type: row.type,
    data: JSON.parse(row.data) as unknown,
    metadata: JSON.parse(row.metadata) as Record<string, unknown>,
    recordedAt: row.recorded_at,
  };
}
