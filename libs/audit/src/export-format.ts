/**
 * The audit export, NDJSON: a header line, then one line per event in position order, each with the hash the
 * notary recorded for it. A whole export holds exactly the events of its checkpoint's tree.
 */
import type { SignedCheckpoint } from './checkpoint.ts';
import type { AuditedEvent } from './event-hash.ts';

export const EXPORT_FORMAT = 'orchestron-audit-export';

export interface ExportHeader {
  readonly format: typeof EXPORT_FORMAT;
  readonly version: 1;
  /** The signed checkpoint the events make (null when there was none yet). */
  readonly checkpoint: SignedCheckpoint | null;
  /** What the export was narrowed to (e.g. `run 0197…`), or null for the whole log up to the checkpoint. */
  readonly filter: string | null;
}

export interface ExportedEvent extends AuditedEvent {
  /** The event's 0-based place in the Merkle tree. */
  readonly index: number;
  /** The hash the notary recorded for the event, hex. */
  readonly hash: string;
}

const FIELDS: readonly [keyof ExportedEvent, 'number' | 'string' | 'object'][] = [
  ['position', 'number'],
  ['index', 'number'],
  ['id', 'string'],
  ['streamId', 'string'],
  ['revision', 'number'],
  ['type', 'string'],
  ['metadata', 'object'],
  ['recordedAt', 'string'],
  ['hash', 'string'],
];

/** A line of an export; `problem` says what is wrong with one that is not. */
export function parseExportLine(
  text: string,
  first: boolean,
): ExportHeader | ExportedEvent | { readonly problem: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { problem: 'a line is not JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { problem: 'a line is not an object' };
  const record = value as Record<string, unknown>;
  if (first) {
    if (record['format'] !== EXPORT_FORMAT || record['version'] !== 1)
      return { problem: `the first line is not an ${EXPORT_FORMAT} version 1 header` };
    return record as unknown as ExportHeader;
  }
  for (const [field, type] of FIELDS)
    if (typeof record[field] !== type || record[field] === null)
      return { problem: `an event line has no ${type} "${field}"` };
  if (!('data' in record)) return { problem: 'an event line has no "data"' };
  return record as unknown as ExportedEvent;
}

export function headerLine(checkpoint: SignedCheckpoint | null, filter: string | null): string {
  const header: ExportHeader = { format: EXPORT_FORMAT, version: 1, checkpoint, filter };
  return JSON.stringify(header);
}
