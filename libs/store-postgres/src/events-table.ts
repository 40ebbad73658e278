import type { RecordedEvent } from '@orchestron/event-store';
import type { PreparedAppend } from '@orchestron/event-store/adapter';
import type { Pool } from 'pg';
import type { SchemaNames } from './schema-names.ts';

/** What `append_events` decided for one append of a batch. */
export type AppendRowOutcome =
  | { readonly kind: 'appended'; readonly revision: number; readonly position: number }
  | { readonly kind: 'conflict'; readonly actual: number | null };

export interface EventsTable {
  /** One call, so one transaction: outcomes come back in the order of `appends`. Throws pg errors untranslated. */
  appendBatch(appends: readonly PreparedAppend[], recordedAt: string): Promise<AppendRowOutcome[]>;
  readForwards(streamId: string, fromRevision: number, maxCount: number | undefined): Promise<RecordedEvent[]>;
  readBackwards(streamId: string, fromRevision: number, maxCount: number | undefined): Promise<RecordedEvent[]>;
  readAll(after: number, maxCount: number | undefined): Promise<RecordedEvent[]>;
  streamRevision(streamId: string): Promise<number | null>;
  /** The last committed position. Every position up to it is committed too. */
  head(): Promise<number>;
}

/** A row as the reads select it: every column as text (see COLUMNS), or as a number where the driver parsed it. */
export interface EventRow {
  readonly position: string | number;
  readonly stream_id: string;
  readonly revision: string | number;
  readonly id: string;
  readonly type: string;
  readonly data: string;
  readonly metadata: string;
  readonly recorded_at: string;
}

interface AppendRow {
  readonly append_index: number;
  readonly is_conflict: boolean;
  readonly out_revision: string | number | null;
  readonly out_position: string | number | null;
}

// Everything comes back as text and is parsed here, so the result does not depend on the pool's type parsers
// (a caller's pool may parse bigint or timestamptz its own way). to_char renders exactly what toISOString does.
// The output names shadow the columns in ORDER BY, hence the `e.` there.
const COLUMNS = `e.position::text AS position, e.stream_id, e.revision::text AS revision, e.id, e.type, e.data::text AS data,
  e.metadata::text AS metadata, to_char(e.recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS recorded_at`;

export function createEventsTable(pool: Pool, names: SchemaNames): EventsTable {
  const { schema, statementPrefix } = names;
  const statement = (name: string, text: string) => ({ name: `${statementPrefix}${name}`, text });
  const append = statement(
    'append',
    `SELECT append_index, is_conflict, out_revision::text AS out_revision, out_position::text AS out_position
       FROM ${schema}.append_events($1::text[], $2::text[], $3::integer[], $4::text[], $5::text[], $6::text[], $7::text[], $8::timestamptz)
      ORDER BY append_index`,
  );
  const forwards = statement(
    'forwards',
    `SELECT ${COLUMNS} FROM ${schema}.events e WHERE e.stream_id = $1 AND e.revision >= $2 ORDER BY e.revision ASC LIMIT $3`,
  );
  const backwards = statement(
    'backwards',
    `SELECT ${COLUMNS} FROM ${schema}.events e WHERE e.stream_id = $1 AND e.revision <= $2 ORDER BY e.revision DESC LIMIT $3`,
  );
  const all = statement(
    'all',
    `SELECT ${COLUMNS} FROM ${schema}.events e WHERE e.position > $1 ORDER BY e.position ASC LIMIT $2`,
  );
  const revision = statement(
    'revision',
    `SELECT max(revision)::text AS revision FROM ${schema}.events WHERE stream_id = $1`,
  );
  const head = statement('head', `SELECT last::text AS last FROM ${schema}.global_position`);

  async function readEvents(query: { name: string; text: string }, values: unknown[]): Promise<RecordedEvent[]> {
    const { rows } = await pool.query<EventRow>({ ...query, values });
    return rows.map(toRecordedEvent);
  }

  return {
    async appendBatch(appends, recordedAt) {
      const events = appends.flatMap((prepared) => prepared.events);
      const { rows } = await pool.query<AppendRow>({
        ...append,
        values: [
          appends.map((prepared) => prepared.streamId),
          appends.map((prepared) => String(prepared.expectedRevision)),
          appends.map((prepared) => prepared.events.length),
          events.map((event) => event.id),
          events.map((event) => event.type),
          events.map((event) => event.dataJson),
          events.map((event) => event.metadataJson),
          recordedAt,
        ],
      });
      if (rows.length !== appends.length)
        throw new Error(`append_events answered ${rows.length} rows for ${appends.length} appends`);
      return rows.map(toOutcome);
    },
    // LIMIT NULL is no limit.
    readForwards: (streamId, fromRevision, maxCount) =>
      readEvents(forwards, [streamId, fromRevision, maxCount ?? null]),
    readBackwards: (streamId, fromRevision, maxCount) =>
      readEvents(backwards, [streamId, fromRevision, maxCount ?? null]),
    readAll: (after, maxCount) => readEvents(all, [after, maxCount ?? null]),
    async streamRevision(streamId) {
      const { rows } = await pool.query<{ revision: string | null }>({ ...revision, values: [streamId] });
      const value = rows[0]?.revision ?? null;
      return value === null ? null : Number(value);
    },
    async head() {
      const { rows } = await pool.query<{ last: string }>(head);
      return Number(rows[0]?.last ?? 0);
    },
  };
}

function toOutcome(row: AppendRow): AppendRowOutcome {
  if (row.is_conflict) return { kind: 'conflict', actual: row.out_revision === null ? null : Number(row.out_revision) };
  return { kind: 'appended', revision: Number(row.out_revision), position: Number(row.out_position) };
}

export function toRecordedEvent(row: EventRow): RecordedEvent {
  return {
    id: row.id,
    streamId: row.stream_id,
    revision: Number(row.revision),
    position: Number(row.position),
    type: row.type,
    data: JSON.parse(row.data) as unknown,
    metadata: JSON.parse(row.metadata) as Record<string, unknown>,
    recordedAt: row.recorded_at,
  };
}
