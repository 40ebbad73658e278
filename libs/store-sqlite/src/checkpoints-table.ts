import type { CheckpointStore } from '@orchestron/event-store';
import { assertCheckpointName, openCheckpoint, sealCheckpoint } from '@orchestron/event-store/adapter';
import type { SealedCheckpoint } from '@orchestron/event-store/adapter';
import type { SqliteDatabase } from './schema.ts';
import { guarded } from './sqlite-errors.ts';

export interface CheckpointsTableOptions {
  readonly db: SqliteDatabase;
  readonly now: () => Date;
  /** Throws EventStoreClosedError once the store is closed. */
  readonly assertOpen: () => void;
}

/**
 * The CheckpointStore in the `checkpoints` table. A save is one autocommit statement, so it is atomic and durable
 * (synchronous=FULL) on its own, and it never joins a group-commit batch of events: those are committed whole
 * inside one synchronous flush, so the two cannot interleave.
 */
export function createCheckpointsTable(options: CheckpointsTableOptions): CheckpointStore {
  const { db, now, assertOpen } = options;
  const select = db.prepare<[string], SealedCheckpoint>(
    'SELECT name, position, state, digest FROM checkpoints WHERE name = ?',
  );
  const upsert = db.prepare<[string, number, string, string, string]>(
    `INSERT INTO checkpoints (name, position, state, digest, saved_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (name) DO UPDATE SET position = excluded.position, state = excluded.state,
       digest = excluded.digest, saved_at = excluded.saved_at`,
  );

  return {
    async load(name) {
      assertOpen();
      assertCheckpointName(name);
      const row = guarded(() => select.get(name));
      return row === undefined ? undefined : openCheckpoint(name, row);
    },
    async save(name, checkpoint) {
      assertOpen();
      const sealed = sealCheckpoint(name, checkpoint);
      guarded(() => upsert.run(sealed.name, sealed.position, sealed.state, sealed.digest, now().toISOString()));
    },
  };
}
