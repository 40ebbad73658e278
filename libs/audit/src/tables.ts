/** Where the notary keeps what it knows beside the log: a row per hashed event, a row per signed checkpoint. */
import { createHash } from 'node:crypto';
import type { ReadRow, RecordedEvent } from '@orchestron/event-store';
import type { SignedCheckpoint } from './checkpoint.ts';

export const LEAF_TABLE = 'audit-leaves';
export const CHECKPOINT_TABLE = 'audit-checkpoints';
/** The notary's own progress: how far it went, the tree's subtree roots, when hashing began. */
export const NOTARY_CHECKPOINT = 'audit-notary';

export interface Leaf {
  readonly position: number;
  readonly index: number;
  readonly hash: string;
}

/** A leaf is found by its stream and revision (the chain asks for the one before); rows list by position. */
export function leafId(streamId: string, revision: number): string {
  const id = `${streamId}#${revision}`;
  return id.length <= 200 ? id : `sha256:${createHash('sha256').update(id).digest('hex')}`;
}

export function leafRow(event: RecordedEvent, index: number, hash: string): ReadRow {
  return {
    id: leafId(event.streamId, event.revision),
    position: event.position,
    tenant: 'all',
    status: 'hashed',
    kind: 'leaf',
    body: JSON.stringify({ index, hash }),
  };
}

export function leafOf(row: ReadRow): Leaf {
  const body = JSON.parse(row.body) as { index: number; hash: string };
  return { position: row.position, index: body.index, hash: body.hash };
}

export function checkpointRow(checkpoint: SignedCheckpoint): ReadRow {
  return {
    id: String(checkpoint.treeSize).padStart(16, '0'),
    position: checkpoint.position,
    tenant: 'all',
    status: 'signed',
    kind: 'checkpoint',
    body: JSON.stringify(checkpoint),
  };
}
