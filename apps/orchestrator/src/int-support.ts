import type { Admin } from '@platformatic/kafka';
import pg from 'pg';

/** What the production-tier specs of this app share: waiting for a state, and leaving nothing behind. */

/** The probe's first truthy answer, asked every 50 ms for up to a minute. */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined | false>): Promise<T> {
  for (const end = Date.now() + 60_000; Date.now() < end; await new Promise((r) => setTimeout(r, 50))) {
    const value = await probe();
    if (value) return value;
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Deletes the spec's own topics (those with its prefix) and PostgreSQL schema. */
export async function dropOwnTopicsAndSchema(options: {
  readonly admin: Admin | undefined;
  readonly topicPrefix: string;
  readonly pgUrl: string;
  readonly schema: string;
}): Promise<void> {
  const { admin, topicPrefix, pgUrl, schema } = options;
  const ours = (await admin?.listTopics())?.filter((topic) => topic.startsWith(topicPrefix)) ?? [];
  if (ours.length > 0) await admin?.deleteTopics({ topics: ours }).catch(() => undefined);
  await admin?.close();
  const pool = new pg.Pool({ connectionString: pgUrl, max: 1 });
  await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await pool.end();
}
