// Migration 7: the audit index's sparse columns (actor, step, policy) are indexed only where they hold a value, and
// every search by one of them still goes through its index, on a new schema and on one migrated from version 6.
import { afterAll, describe, expect, it } from '@jest/globals';
import type { AuditEntry, EventStore } from '@orchestron/event-store';
import { createPostgresEventStore } from './index.ts';
import { MIGRATIONS } from './migrations.ts';
import { schemaNames } from './schema-names.ts';
import { dropSchemas, endAdmin, freshSchema, POSTGRES_URL, requirePostgres } from './testing/postgres-test-database.ts';

afterAll(async () => {
  await dropSchemas();
  await endAdmin();
});

const SPARSE = [
  { index: 'audit_by_actor', column: 'actor', field: 'actor' },
  { index: 'audit_by_step', column: 'step_id', field: 'stepId' },
  { index: 'audit_by_policy', column: 'policy_id', field: 'policyId' },
] as const;

const at = (n: number): string => new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString();

/** Appends `count` events and indexes them; every fifth carries an actor, a step and a policy, the rest none. */
async function indexEvents(store: EventStore, count: number): Promise<AuditEntry[]> {
  const entries: AuditEntry[] = [];
  for (let n = 0; n < count; n += 1) {
    const { position } = await store.append(`run-${n % 3}`, [{ type: 'Happened', data: { n } }]);
    const full = n % 5 === 0;
    entries.push({
      position,
      runId: `run-${n % 3}`,
      tenant: 't1',
      definitionId: 'd1',
      type: 'Happened',
      actor: full ? `operator:${n}` : null,
      stepId: full ? `s${n}` : null,
      policyId: full ? `p${n}` : null,
      recordedAt: at(n),
    });
  }
  await store.auditIndex?.put(entries);
  return entries;
}

async function planIndexes(schema: string, column: string): Promise<string[]> {
  const admin = await requirePostgres();
  const client = await admin.connect();
  try {
    // A generic plan: the store's searches are prepared with parameters, so the proof that `col = $1` implies
    // `col IS NOT NULL` must hold without the value.
    await client.query(
      `SET search_path TO "${schema}"; SET enable_seqscan = off; SET plan_cache_mode = force_generic_plan`,
    );
    await client.query(
      `PREPARE search(text) AS SELECT count(*) FROM audit_index WHERE ${column} = $1 AND tenant = 't1'`,
    );
    const { rows } = await client.query<{ 'QUERY PLAN': unknown }>(`EXPLAIN (FORMAT JSON) EXECUTE search('x')`);
    const names: string[] = [];
    JSON.stringify(rows[0]?.['QUERY PLAN'], (key, value: unknown) => {
      if (key === 'Index Name' && typeof value === 'string') names.push(value);
      return value;
    });
    return names;
  } finally {
    await client.query('DEALLOCATE ALL; RESET ALL').catch(() => undefined);
    client.release();
  }
}

async function expectPartialAndUsed(schema: string): Promise<void> {
  const admin = await requirePostgres();
  for (const { index, column } of SPARSE) {
    const { rows } = await admin.query<{ indexdef: string }>(
      'SELECT indexdef FROM pg_indexes WHERE schemaname = $1 AND indexname = $2',
      [schema, index],
    );
    expect(rows[0]?.indexdef).toContain(`WHERE (${column} IS NOT NULL)`);
    expect(await planIndexes(schema, column)).toEqual([index]);
  }
}

describe('postgres audit index: sparse columns are indexed only where they hold a value', () => {
  it('a new schema has the partial indexes, searches use them, and they hold one entry per value', async () => {
    const schema = await freshSchema();
    const store = await createPostgresEventStore({ url: POSTGRES_URL, schema });
    try {
      const entries = await indexEvents(store, 40);
      await expectPartialAndUsed(schema);
      const admin = await requirePostgres();
      await admin.query(`ANALYZE "${schema}".audit_index`);
      for (const { index, field } of SPARSE) {
        const { rows } = await admin.query<{ reltuples: number }>(
          `SELECT reltuples FROM pg_class WHERE oid = $1::regclass`,
          [`"${schema}".${index}`],
        );
        expect(rows[0]?.reltuples).toBe(entries.filter((entry) => entry[field] !== null).length);
        const value = entries[5]?.[field] ?? null;
        const hits = await store.auditIndex?.query({ [field]: value ?? '' }, { limit: 10 });
        expect(hits?.map((hit) => hit.entry.position)).toEqual([entries[5]?.position]);
      }
    } finally {
      await store.close();
    }
  });

  it('a schema at version 6 is migrated, and its entries are found by each sparse field afterwards', async () => {
    const schema = await freshSchema();
    const names = schemaNames(schema);
    const admin = await requirePostgres();
    await admin.query(`CREATE SCHEMA "${schema}"`);
    await admin.query(
      `CREATE TABLE "${schema}".migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    for (const migration of MIGRATIONS.filter(({ version }) => version <= 6)) {
      await admin.query(migration.sql(names));
      await admin.query(`INSERT INTO "${schema}".migrations (version, name) VALUES ($1, $2)`, [
        migration.version,
        migration.name,
      ]);
    }
    // What a version-6 adapter wrote: the full indexes, holding a NULL entry for each event without the field.
    await admin.query(
      `INSERT INTO "${schema}".events (position, stream_id, revision, id, type, data, metadata, recorded_at)
       SELECT n, 'run-' || n, 0, 'id-' || n, 'Happened', '{}', '{}', now() FROM generate_series(1, 20) AS n`,
    );
    await admin.query(
      `INSERT INTO "${schema}".audit_index (position, run_id, tenant, definition_id, type, actor, step_id, policy_id, recorded_at)
       SELECT n, 'run-' || n, 't1', 'd1', 'Happened', CASE WHEN n % 4 = 0 THEN 'operator:' || n END,
         CASE WHEN n % 4 = 0 THEN 's' || n END, CASE WHEN n % 4 = 0 THEN 'p' || n END, now()
       FROM generate_series(1, 20) AS n`,
    );
    await admin.query(`UPDATE "${schema}".global_position SET last = 20`);

    const store = await createPostgresEventStore({ url: POSTGRES_URL, schema });
    try {
      const { rows } = await admin.query<{ version: number }>(
        `SELECT max(version) AS version FROM "${schema}".migrations`,
      );
      expect(rows[0]?.version).toBe(7);
      await expectPartialAndUsed(schema);
      const found = async (filter: Record<string, string>) =>
        (await store.auditIndex?.query(filter, { limit: 10 }))?.map((hit) => hit.entry.position);
      expect(await found({ actor: 'operator:8' })).toEqual([8]);
      expect(await found({ stepId: 's12' })).toEqual([12]);
      expect(await found({ policyId: 'p20', tenant: 't1' })).toEqual([20]);
      expect(await found({ policyId: 'p3' })).toEqual([]);
    } finally {
      await store.close();
    }
  });
});
