// The PostgreSQL server the integration tests and the benchmark run against, and throwaway schemas on it.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Pool } from 'pg';
import { describeError } from '../postgres-errors.ts';

export const POSTGRES_URL = process.env['ORCHESTRON_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

const START_HINT =
  'Start it with `pg_ctlcluster --skip-systemctl-redirect 15 main start`, or point ORCHESTRON_PG_URL at a running server.';

let admin: Pool | undefined;
let reachable: Promise<Pool> | undefined;
const created = new Set<string>();

/** The URL without its password, for messages. */
function shownUrl(): string {
  try {
    const url = new URL(POSTGRES_URL);
    if (url.password !== '') url.password = '***';
    return url.toString();
  } catch {
    return '(an unparseable ORCHESTRON_PG_URL)';
  }
}

/**
 * Resolves to a pool for setup and cleanup, or rejects with a message that names PostgreSQL and how to start
 * it: an unreachable server fails the tests, it never skips them.
 */
export function requirePostgres(): Promise<Pool> {
  reachable ??= (async () => {
    const pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 2, connectionTimeoutMillis: 5_000 });
    pool.on('error', () => undefined);
    try {
      await pool.query('SELECT 1');
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw new Error(`PostgreSQL is not reachable at ${shownUrl()}: ${describeError(error)}. ${START_HINT}`, {
        cause: error,
      });
    }
    admin = pool;
    return pool;
  })();
  return reachable;
}

/** Where throwaway schema names start: ORCHESTRON_TEST_SCHEMA_PREFIX lets engineers sharing a server tell theirs apart. */
const SCHEMA_PREFIX = process.env['ORCHESTRON_TEST_SCHEMA_PREFIX'] ?? 'orchestron_test';

/** A schema name no other test uses; dropSchemas() removes it. */
export async function freshSchema(prefix = SCHEMA_PREFIX): Promise<string> {
  await requirePostgres();
  const schema = `${prefix}_${randomBytes(6).toString('hex')}`;
  created.add(schema);
  return schema;
}

export async function dropSchemas(): Promise<void> {
  const pool = admin;
  if (pool === undefined) return;
  for (const schema of created) await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  created.clear();
}

export async function endAdmin(): Promise<void> {
  const pool = admin;
  admin = undefined;
  reachable = undefined;
  await pool?.end();
}
