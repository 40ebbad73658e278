// What the stack needs of the machine: Kafka running, free ports, PostgreSQL connections, and process signals.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Admin } from '@platformatic/kafka';
import pg from 'pg';
import { ROOT } from './root.ts';

// Pool sizes the stack gives each event-store user (API, orchestrators; LISTEN included) and each worker's ledger.
export const STORE_CONNECTIONS = 6;
/**
 * Each worker process's ledger pool: a claim and a completion per step go through it, so a pool far below the
 * worker's concurrency queues steps (with 2 connections, reaching the claim took 12.8 ms p50 at 50 runs in flight).
 * Sized so all worker processes together hold about 40 connections, 2 to 10 each.
 */
export function ledgerConnections(workerProcesses: number): number {
  return Math.min(10, Math.max(2, Math.floor(40 / Math.max(1, workerProcesses))));
}

/**
 * Every store user (orchestrators, API) and worker process keeps a pool of its own, so under load the stack can open
 * more connections than a default PostgreSQL allows (100); the ones over the limit then fail with "too many clients
 * already", and a worker that cannot claim an attempt fails it (WORKER.LEDGER_UNAVAILABLE), spending a retry.
 */
export async function postgresHeadroom(
  url: string,
  storeProcesses: number,
  workerProcesses: number,
  ledgerPool: number,
): Promise<string[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  try {
    await client.connect();
  } catch (error) {
    throw new Error(
      `PostgreSQL at ${url} does not answer (${error instanceof Error ? error.message : String(error)}); the stack needs it for the event store and the workers' ledger`,
      { cause: error },
    );
  }
  try {
    const { rows } = await client.query<{ max: number; reserved: number; used: number }>(
      `SELECT current_setting('max_connections')::int AS max, current_setting('superuser_reserved_connections')::int AS reserved, (SELECT count(*)::int FROM pg_stat_activity WHERE backend_type = 'client backend') AS used`,
    );
    const { max, reserved, used } = rows[0] as { max: number; reserved: number; used: number };
    const need = storeProcesses * STORE_CONNECTIONS + workerProcesses * ledgerPool;
    const free = max - reserved - used;
    return need <= free
      ? []
      : [
          `its processes may open up to ${need} PostgreSQL connections (${storeProcesses} store users × ${STORE_CONNECTIONS}, ${workerProcesses} workers × ${ledgerPool}), ` +
            `but ${url} has ${free} free (max_connections ${max}, ${reserved} reserved, ${used} in use): under load some calls will fail with "too many clients already"`,
        ];
  } finally {
    await client.end();
  }
}

export function ensureKafka(log: (line: string) => void): boolean {
  const status = spawnSync('bash', [join(ROOT, 'infra/kafka/kafka.sh'), 'status'], { encoding: 'utf8' });
  if (status.status === 0) return false;
  log('stack: starting Kafka (npm run kafka:start)');
  const result = spawnSync('bash', [join(ROOT, 'infra/kafka/kafka.sh'), 'start'], { stdio: 'inherit' });
  if (result.status !== 0)
    throw new Error('Kafka could not be started on 127.0.0.1:9092; run `npm run kafka:start` to see why');
  return true;
}

/** Throws, naming the brokers, unless a Kafka broker at `brokers` answers a metadata request within 5 s. */
export async function requireKafka(brokers: readonly string[]): Promise<void> {
  const admin = new Admin({
    clientId: 'orchestron-stack-probe',
    bootstrapBrokers: [...brokers],
    retries: 0,
    timeout: 5_000,
    connectTimeout: 5_000,
  });
  try {
    await admin.metadata({ topics: [] });
  } catch (error) {
    throw new Error(
      `no Kafka broker answers at ${brokers.join(',')} (${error instanceof Error ? error.message : String(error)}); the stack starts one of its own only when no brokers are given`,
      { cause: error },
    );
  } finally {
    await admin.close().catch(() => undefined);
  }
}

export function freePorts(count: number): Promise<number[]> {
  return Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<number>((resolvePort, reject) => {
          const server = createServer();
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => {
            const address = server.address();
            const port = typeof address === 'object' && address ? address.port : 0;
            server.close(() => resolvePort(port));
          });
        }),
    ),
  );
}

/**
 * Whether the process runs. A zombie does not: a service killed by another process (npm run stack:kill) stays a
 * zombie until the process that started it reaps it, which may be busy or blocked.
 */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // /proc/<pid>/stat: "pid (comm) state ...", and comm may hold spaces or parentheses.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc here: the signal answered
  }
}

export function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}
