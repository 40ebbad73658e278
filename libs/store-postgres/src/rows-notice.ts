import type { RecordedEvent } from '@orchestron/event-store';
import { toRecordedEvent } from './events-table.ts';

/** What one notice on the rows channel says: these committed events, then every position up to `to` committed. */
export interface RowsNotice {
  readonly events: readonly RecordedEvent[];
  readonly to: number;
}

const ROW_FIELDS = 8;
type RowTexts = [string, string, string, string, string, string, string, string];

/**
 * Parses a payload `append_events` sent on the rows channel (append-events-function.ts): `{"to":N,"rows":[[…]]}`,
 * each row the eight texts a read selects. Anything else is null: the caller then reads, as for a lost notice.
 */
export function parseRowsNotice(payload: string): RowsNotice | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload);
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null) return null;
  const { to, rows } = parsed as { to?: unknown; rows?: unknown };
  if (typeof to !== 'number' || !Number.isSafeInteger(to) || to <= 0 || !Array.isArray(rows)) return null;
  const events: RecordedEvent[] = [];
  for (const row of rows as unknown[]) {
    if (!Array.isArray(row) || row.length !== ROW_FIELDS || !row.every((field) => typeof field === 'string'))
      return null;
    const [position, stream_id, revision, id, type, data, metadata, recorded_at] = row as RowTexts;
    try {
      events.push(toRecordedEvent({ position, stream_id, revision, id, type, data, metadata, recorded_at }));
    } catch {
      return null;
    }
  }
  if (!consecutive(events) || (events.length > 0 && events.at(-1)?.position !== to)) return null;
  return { events, to };
}

/** The last position a rows notice covers, read off its head (`{"to":N,`) without parsing the rows; null if none. */
export function noticeEnd(payload: string): number | null {
  const to = Number(/^\{"to":(\d{1,16}),/.exec(payload)?.[1] ?? Number.NaN);
  return Number.isSafeInteger(to) && to > 0 ? to : null;
}

/** Whether `events` hold consecutive positions, each one more than the one before. */
export function consecutive(events: readonly RecordedEvent[]): boolean {
  return events.every(
    (event, index) =>
      Number.isSafeInteger(event.position) &&
      (index === 0 || event.position === (events[index - 1]?.position ?? 0) + 1),
  );
}
