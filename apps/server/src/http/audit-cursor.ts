import { createHash } from 'node:crypto';
import type { AuditFilter } from '@orchestron/event-store';
import { RequestError } from './errors.ts';

/**
 * A page's cursor: the position it ended at, bound to the filters it was taken with (tenant included) by a digest,
 * so an edited cursor, or one replayed with other filters, is refused instead of silently skipping events. It grants
 * nothing: every page is scoped to the caller's tenant whatever the cursor says.
 */
export function encodeCursor(filter: AuditFilter, after: number): string {
  return Buffer.from(`${after}.${digest(filter, after)}`).toString('base64url');
}

/** The position a cursor ends at, or a 400 naming `cursor`. */
export function decodeCursor(filter: AuditFilter, cursor: string): number {
  const [position, check, extra] = Buffer.from(cursor, 'base64url').toString('utf8').split('.');
  const after = /^\d{1,15}$/.test(position ?? '') ? Number(position) : Number.NaN;
  if (extra !== undefined || !Number.isSafeInteger(after) || check !== digest(filter, after))
    throw new RequestError(
      'REQUEST.INVALID',
      '"cursor" is not a next_cursor of this query: pass it unchanged, with the same filters, or leave it out to start over',
      { field: 'cursor' },
    );
  return after;
}

function digest(filter: AuditFilter, after: number): string {
  const fields = Object.entries(filter).sort(([a], [b]) => a.localeCompare(b));
  return createHash('sha256')
    .update(JSON.stringify([after, fields]))
    .digest('base64url')
    .slice(0, 22);
}
