/**
 * Counts a process's round trips to Kafka (requests by API key) and PostgreSQL (queries), for measuring the hot
 * path. Preloaded with `NODE_OPTIONS="--import <repo>/tools/roundtrips/counter.ts"` and
 * `ORCHESTRON_ROUNDTRIPS_DIR=<dir>`: the process then writes `<dir>/<pid>.json` twice a second, and at exit.
 * Without the variable it does nothing. Read the files with tools/roundtrips/read.ts.
 */
import { tracingChannel } from 'node:diagnostics_channel';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, join } from 'node:path';

const dir = process.env.ORCHESTRON_ROUNDTRIPS_DIR;
if (dir) install(dir);

/** Kafka's API keys that the hot path uses; the rest are counted under their number. */
const KAFKA_APIS: Record<number, string> = {
  0: 'Produce',
  1: 'Fetch',
  2: 'ListOffsets',
  3: 'Metadata',
  8: 'OffsetCommit',
  9: 'OffsetFetch',
  10: 'FindCoordinator',
  11: 'JoinGroup',
  12: 'Heartbeat',
  14: 'SyncGroup',
  18: 'ApiVersions',
  22: 'InitProducerId',
};

function install(out: string): void {
  mkdirSync(out, { recursive: true });
  const kafka: Record<string, number> = {};
  const queries: Record<string, number> = {};
  const counts = { kafka, postgres: 0, queries };
  tracingChannel<unknown, { operation?: string; apiKey?: number }>('plt:kafka:connections:api').subscribe({
    start(context) {
      if (context.operation !== 'send' || context.apiKey === undefined) return;
      const name = KAFKA_APIS[context.apiKey] ?? `api${context.apiKey}`;
      kafka[name] = (kafka[name] ?? 0) + 1;
    },
    end: () => undefined,
    asyncStart: () => undefined,
    asyncEnd: () => undefined,
    error: () => undefined,
  });
  countPostgresQueries((what) => {
    counts.postgres += 1;
    queries[what] = (queries[what] ?? 0) + 1;
  });
  const name = `${process.env.ORCHESTRON_INSTANCE ?? basename(process.argv[1] ?? 'node')}`;
  const file = join(out, `${process.pid}.json`);
  const write = (): void =>
    writeFileSync(file, JSON.stringify({ pid: process.pid, name, argv: process.argv.slice(1), ...counts }));
  setInterval(write, 500).unref();
  process.on('exit', write);
}

/** Every query a pg Client sends (a pool's queries go through its clients). */
function countPostgresQueries(count: (what: string) => void): void {
  let pg: { Client: { prototype: { query: (...args: unknown[]) => unknown } } };
  try {
    pg = createRequire(join(process.cwd(), 'package.json'))('pg') as typeof pg;
  } catch {
    return;
  }
  const query = pg.Client.prototype.query;
  pg.Client.prototype.query = function counted(this: unknown, ...args: unknown[]) {
    count(describeQuery(args[0]));
    return query.apply(this, args);
  };
}

/** A query's statement name, or the start of its text. */
function describeQuery(config: unknown): string {
  if (typeof config === 'string') return config.replace(/\s+/g, ' ').slice(0, 60);
  if (typeof config === 'object' && config !== null) {
    const { name, text } = config as { name?: unknown; text?: unknown };
    if (typeof name === 'string') return name;
    if (typeof text === 'string') return text.replace(/\s+/g, ' ').slice(0, 60);
  }
  return 'other';
}
