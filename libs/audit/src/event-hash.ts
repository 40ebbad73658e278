/**
 * An event's hash: SHA-256 of the RFC 8785 canonical JSON of what the store recorded (its place in the log and in
 * its stream, its type, data, metadata and time) and of the hash of the event before it in its stream. So each
 * stream is a hash chain, and the global log, leaf by leaf in position order, a Merkle tree (merkle.ts).
 */
import canonicalize from 'canonicalize';
import { createHash } from 'node:crypto';
import type { RecordedEvent } from '@orchestron/event-store';
import { leafHash } from './merkle.ts';
import type { Hash } from './merkle.ts';

/** What an event's hash covers: a RecordedEvent as the store gives it, or as an export line carries it. */
export type AuditedEvent = Pick<
  RecordedEvent,
  'position' | 'id' | 'streamId' | 'revision' | 'type' | 'data' | 'metadata' | 'recordedAt'
>;

export const HASH_VERSION = 1;

/** The event's hash, hex: chained to `prev`, the hash of the event before it in its stream (null for the first). */
export function eventHash(event: AuditedEvent, prev: string | null): string {
  const covered = {
    v: HASH_VERSION,
    position: event.position,
    id: event.id,
    streamId: event.streamId,
    revision: event.revision,
    type: event.type,
    data: event.data ?? null,
    metadata: event.metadata ?? {},
    recordedAt: event.recordedAt,
    prev,
  };
  const text = canonicalize(covered);
  if (text === undefined) throw new Error(`event ${event.id} cannot be put in canonical JSON`);
  return createHash('sha256').update(text).digest('hex');
}

/** The event's leaf in the Merkle tree of the log. */
export function eventLeaf(hash: string): Hash {
  return leafHash(Buffer.from(hash, 'hex'));
}

/** Only what a hash covers, for an export line or a proof. */
export function auditedFields(event: AuditedEvent): AuditedEvent {
  const { position, id, streamId, revision, type, data, metadata, recordedAt } = event;
  return { position, id, streamId, revision, type, data, metadata, recordedAt };
}
