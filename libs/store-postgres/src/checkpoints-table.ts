import type { CheckpointStore } from '@orchestron/event-store';
import { assertCheckpointName, openCheckpoint, sealCheckpoint } from '@orchestron/event-store/adapter';
import type { Pool } from 'pg';
import { guarded } from './postgres-errors.ts';
import type { SchemaNames } from './schema-names.ts';

interface CheckpointRow {
  readonly name: string;
  readonly position: string;
  readonly state: string;
  readonly digest: string;
}

/**
 * The CheckpointStore in the schema's `checkpoints` table. A save is one upsert, so one transaction: a reader sees
 * the old row or the new one. It takes no lock the appends take, so saving never holds up a writer of events.
 */
export function createCheckpointsTable(pool: Pool, names: SchemaNames, assertOpen: () => void): CheckpointStore {
  const { schema, statementPrefix } = names;
  const select = {
    name: `${statementPrefix}checkpoint_load`,
    text: `SELECT name, position::text AS position, state, digest FROM ${schema}.checkpoints WHERE name = $1`,
  };
  const upsert = {
    name: `${statementPrefix}checkpoint_save`,
    text: `INSERT INTO ${schema}.checkpoints (name, position, state, digest, saved_at) VALUES ($1, $2, $3, $4, now())
           ON CONFLICT (name) DO UPDATE SET position = excluded.position, state = excluded.state,
             digest = excluded.digest, saved_at = excluded.saved_at`,
  };

  return {
    async load(name) {
      assertOpen();
      assertCheckpointName(name);
      const { rows } = await guarded('load a checkpoint', () =>
        pool.query<CheckpointRow>({ ...select, values: [name] }),
      );
      const row = rows[0];
      return row === undefined ? undefined : openCheckpoint(name, { ...row, position: Number(row.position) });
    },
    async save(name, checkpoint) {
      assertOpen();
      const sealed = sealCheckpoint(name, checkpoint);
      await guarded('save a checkpoint', () =>
        pool.query({ ...upsert, values: [sealed.name, sealed.position, sealed.state, sealed.digest] }),
      );
    },
  };
}
