// PostgreSQL helpers of the drivers: row counts of a schema, dropping it, a database of its own.
import { execFileSync } from 'node:child_process';
import pg from 'pg';

export const PG_URL = process.env.ORCHESTRON_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** The same server, another database. */
export function databaseUrl(database: string): string {
  const url = new URL(PG_URL);
  url.pathname = `/${database}`;
  return url.toString();
}

export async function withClient<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

/** Rows in every table of `schema` (0 when it does not exist yet), and in one table of it when named. */
export async function schemaRows(
  client: pg.Client,
  schema: string,
  table?: string,
): Promise<{ total: number; table: number | null }> {
  const { rows } = await client.query<{ tablename: string }>('SELECT tablename FROM pg_tables WHERE schemaname = $1', [
    schema,
  ]);
  let total = 0;
  let one: number | null = null;
  for (const { tablename } of rows) {
    const counted = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${schema}"."${tablename}"`);
    const n = counted.rows[0]?.n ?? 0;
    total += n;
    if (tablename === table) one = n;
  }
  return { total, table: one };
}

export async function dropSchema(url: string, schema: string): Promise<void> {
  await withClient(url, (client) => client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
}

/** dropdb + createdb through the PostgreSQL client tools, as a person would. */
export function recreateDatabase(name: string): void {
  const { hostname, port, username } = new URL(PG_URL);
  const common = ['-h', hostname, '-p', port || '5432', '-U', decodeURIComponent(username || 'postgres')];
  execFileSync('dropdb', [...common, '--if-exists', '--force', name], { stdio: 'pipe' });
  execFileSync('createdb', [...common, name], { stdio: 'pipe' });
}

export function dropDatabase(name: string): void {
  const { hostname, port, username } = new URL(PG_URL);
  const common = ['-h', hostname, '-p', port || '5432', '-U', decodeURIComponent(username || 'postgres')];
  execFileSync('dropdb', [...common, '--if-exists', '--force', name], { stdio: 'pipe' });
}

export async function serverVersion(): Promise<string> {
  return withClient(PG_URL, async (client) => {
    const { rows } = await client.query<{ v: string }>("SELECT current_setting('server_version') AS v");
    return rows[0]?.v ?? 'unknown';
  });
}
