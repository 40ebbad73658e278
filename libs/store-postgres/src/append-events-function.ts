import type { SchemaNames } from './schema-names.ts';

/**
 * A notice's payload must stay under 8,000 bytes; this leaves room for its envelope, `{"to":N,"rows":[…]}`.
 * Exported for the tests that fill a notice to the brim.
 */
export const ROWS_NOTICE_BYTES = 7_800;

/**
 * Rows are sent only while the server's notification queue is below this share of its size (8 GB on PostgreSQL 15):
 * a listener that stops reading (a process frozen with its connection open) holds the queue's tail, and rows would
 * fill it thousands of times faster than positions do; a full queue fails every NOTIFY, so every append. Above it,
 * notices carry the position alone, and followers read, as before. 0.001 is about 8 MB.
 */
export const ROWS_QUEUE_SHARE = 0.001;

/**
 * `append_events`, as migration 2 created it (`sendsRows` false: the text must not change) and as migration 6
 * replaced it (ADR 50). The latter also sends the rows it appended on the rows channel as NOTIFY payloads, so a
 * follower passes them on without reading them back. Each row is the array of texts the store's reads select
 * (events-table.ts's COLUMNS: position, stream id, revision, id, type, data, metadata, recorded at), built from the
 * arguments: `data` and `metadata` are `json`, which keeps the caller's exact text, so the argument is what a read
 * returns. Rows go out in position order, as many to a notice as fit under ROWS_NOTICE_BYTES; each notice says
 * `to`, the last position it covers: a row too big for any notice goes out as `{"to":N,"rows":[]}`, and the
 * follower reads it. Notices of one transaction arrive in the order sent, and transactions' in commit order, which
 * is position order here. While the notification queue is backed up (ROWS_QUEUE_SHARE), the notice carries only
 * the last position.
 *
 * The position on the old channel is still sent, for processes of the previous version during a rolling upgrade.
 */
export function appendEventsFunction(names: SchemaNames, sendsRows: boolean): string {
  const { schema, channel } = names;
  const rows = sendsRows ? rowsFragments(names) : { declare: '', perRow: '', atEnd: '' };
  return `
      CREATE ${sendsRows ? 'OR REPLACE ' : ''}FUNCTION ${schema}.append_events(
        p_stream_ids  text[],
        p_expected    text[],
        p_counts      integer[],
        p_ids         text[],
        p_types       text[],
        p_data        text[],
        p_metadata    text[],
        p_recorded_at timestamptz
      ) RETURNS TABLE (append_index integer, is_conflict boolean, out_revision bigint, out_position bigint)
      LANGUAGE plpgsql AS $fn$
      DECLARE
        v_first    bigint;
        v_last     bigint;
        v_offset   integer := 0;
        v_count    integer;
        v_stream   text;
        v_expected text;
        v_revision bigint;
        v_position bigint;${rows.declare}
      BEGIN
        SELECT g.last INTO v_first FROM ${schema}.global_position g FOR UPDATE;
        v_last := v_first;
        FOR i IN 1 .. coalesce(array_length(p_stream_ids, 1), 0) LOOP
          v_stream := p_stream_ids[i];
          v_expected := p_expected[i];
          v_count := p_counts[i];
          v_revision := NULL;
          v_position := NULL;
          SELECT e.revision, e.position INTO v_revision, v_position
            FROM ${schema}.events e WHERE e.stream_id = v_stream ORDER BY e.revision DESC LIMIT 1;
          append_index := i - 1;
          -- Mirrors isExpectedRevisionSatisfied in @orchestron/event-store.
          IF NOT coalesce(CASE v_expected
                            WHEN 'any' THEN true
                            WHEN 'no_stream' THEN v_revision IS NULL
                            WHEN 'stream_exists' THEN v_revision IS NOT NULL
                            ELSE v_revision = v_expected::bigint
                          END, false) THEN
            is_conflict := true;
            out_revision := v_revision;
            out_position := NULL;
          ELSIF v_count = 0 THEN
            is_conflict := false;
            out_revision := coalesce(v_revision, -1);
            out_position := coalesce(v_position, 0);
          ELSE
            INSERT INTO ${schema}.events (position, stream_id, revision, id, type, data, metadata, recorded_at)
            SELECT v_last + e.ord, v_stream, coalesce(v_revision, -1) + e.ord, e.id, e.type, e.data::json, e.metadata::json, p_recorded_at
              FROM unnest(p_ids[v_offset + 1 : v_offset + v_count], p_types[v_offset + 1 : v_offset + v_count],
                          p_data[v_offset + 1 : v_offset + v_count], p_metadata[v_offset + 1 : v_offset + v_count])
                   WITH ORDINALITY AS e(id, type, data, metadata, ord);${rows.perRow}
            v_last := v_last + v_count;
            is_conflict := false;
            out_revision := coalesce(v_revision, -1) + v_count;
            out_position := v_last;
          END IF;
          RETURN NEXT;
          v_offset := v_offset + v_count;
        END LOOP;
        IF v_last > v_first THEN
          UPDATE ${schema}.global_position SET last = v_last;${rows.atEnd}
          PERFORM pg_notify('${channel}', v_last::text);
        END IF;
      END
      $fn$;`;
}

/** What migration 6 adds: the rows of each append gathered into notices, the last one sent before the position. */
function rowsFragments({ rowsChannel }: SchemaNames): { declare: string; perRow: string; atEnd: string } {
  const flush = `PERFORM pg_notify('${rowsChannel}', '{"to":' || v_to || ',"rows":[' || v_rows || ']}');`;
  return {
    declare: `
        v_at       text := to_char(p_recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"');
        v_row      text;
        v_rows     text := '';
        v_to       bigint := 0;
        v_send     boolean := pg_notification_queue_usage() < ${ROWS_QUEUE_SHARE};`,
    perRow: `
            FOR k IN 1 .. CASE WHEN v_send THEN v_count ELSE 0 END LOOP
              v_row := json_build_array((v_last + k)::text, v_stream, (coalesce(v_revision, -1) + k)::text,
                p_ids[v_offset + k], p_types[v_offset + k], p_data[v_offset + k], p_metadata[v_offset + k], v_at)::text;
              IF v_rows <> '' AND octet_length(v_rows) + octet_length(v_row) + 1 > ${ROWS_NOTICE_BYTES} THEN
                ${flush}
                v_rows := '';
              END IF;
              v_to := v_last + k;
              IF octet_length(v_row) > ${ROWS_NOTICE_BYTES} THEN
                PERFORM pg_notify('${rowsChannel}', '{"to":' || v_to || ',"rows":[]}');
              ELSIF v_rows = '' THEN
                v_rows := v_row;
              ELSE
                v_rows := v_rows || ',' || v_row;
              END IF;
            END LOOP;`,
    atEnd: `
          IF v_rows <> '' THEN
            ${flush}
          ELSIF NOT v_send THEN
            PERFORM pg_notify('${rowsChannel}', '{"to":' || v_last || ',"rows":[]}');
          END IF;`,
  };
}
