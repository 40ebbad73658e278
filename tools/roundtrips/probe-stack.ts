/**
 * `node tools/roundtrips/probe-stack.ts`: the production stack (separate processes on Kafka and PostgreSQL) driven
 * over HTTP with N-step no-op runs, closed loop; prints runs/s, latency, CPU-ms per run by process, and the Kafka
 * requests and PostgreSQL queries per step of each process (counted by tools/roundtrips/counter.ts, preloaded in
 * every process of the stack). A diagnostic for the hot path, not the benchmark (that is `npm run bench`).
 */
import { readdirSync, readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'hdr-histogram-js';
import { deleteKafkaPrefix } from '../../bench/harness/drivers/kafka-admin.ts';
import { dropSchema, PG_URL, withClient } from '../../bench/harness/drivers/pg-admin.ts';
import { kafkaBrokerPids, postgresServerPids } from '../../bench/harness/proc-sampler.ts';
import { ROOT, startStack, stopStack } from '../stack/stack.ts';
import { applyPins, coreBusy, coreTimes, pinPlan, restore } from './pinning.ts';
import type { Stack } from '../stack/stack.ts';

const HELP = `Usage: node tools/roundtrips/probe-stack.ts [--runs 600] [--in-flight 50] [--steps 3] [--orchestrators 1]
       [--partitions 8] [--worker-instances 1] [--worker-pool 2] [--started-after 100] [--keep] [--queries]
       [--traces] [--fanout N] [--two-requests] [--sql FILE] [--pin-orchestrators CORES] [--pin-rest CORES]
Starts the stack with the records worker only (no-op work), runs the runs, prints figures, stops the stack.
--fanout N runs N parallel steps and then a join (N + 1 steps) instead of a chain of --steps.
--two-requests starts each run, then waits for it in a second request (by default one POST /v1/runs?waitMs= does both).
--sql FILE runs FILE's SQL on the stack's schema (its search_path) once the stack has started, before the warm-up:
  an experiment on the schema, e.g. without an index.
--traces runs the OTLP collector and exports spans to it (off by default, as in \`npm run bench\`).
--pin-orchestrators CORES, --pin-rest CORES pin with taskset (e.g. 0,1 and 1): orchestrator i to the i-th core of
  its list, in turn; the other processes of the stack, PostgreSQL, the Kafka broker and the probe to the rest's cores.
  PostgreSQL and the broker get every core back at the end. Each core's busy share is printed either way.`;

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '600' },
    'in-flight': { type: 'string', default: '50' },
    steps: { type: 'string', default: '3' },
    orchestrators: { type: 'string', default: '1' },
    partitions: { type: 'string', default: '8' },
    'worker-instances': { type: 'string', default: '1' },
    'worker-pool': { type: 'string', default: '2' },
    'started-after': { type: 'string' },
    keep: { type: 'boolean', default: false },
    queries: { type: 'boolean', default: false },
    traces: { type: 'boolean', default: false },
    fanout: { type: 'string' },
    'two-requests': { type: 'boolean', default: false },
    sql: { type: 'string' },
    'pin-orchestrators': { type: 'string' },
    'pin-rest': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  process.stdout.write(`${HELP}\n`);
  process.exit(0);
}
const runs = Number(values.runs);
const inFlight = Number(values['in-flight']);
const fanout = values.fanout === undefined ? undefined : Number(values.fanout);
const steps = fanout === undefined ? Number(values.steps) : fanout + 1;
const pins = pinPlan(values['pin-orchestrators'], values['pin-rest']);

interface Counts {
  readonly pid: number;
  readonly name: string;
  readonly kafka: Record<string, number>;
  readonly postgres: number;
  readonly queries: Record<string, number>;
}

const countsDir = mkdtempSync(join(tmpdir(), 'orchestron-roundtrips-'));
process.env.ORCHESTRON_ROUNDTRIPS_DIR = countsDir;
process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --import ${join(ROOT, 'tools/roundtrips/counter.ts')}`;

const chain = (n: number) =>
  Array.from({ length: n }, (_, i) => [`s${i}`, { worker: 'records', ...(i > 0 ? { needs: [`s${i - 1}`] } : {}) }]);
const fan = (n: number) => [
  ...Array.from({ length: n }, (_, i) => [`s${i}`, { worker: 'records' }]),
  ['join', { worker: 'records', needs: Array.from({ length: n }, (_, i) => `s${i}`) }],
];
const definition = {
  id: fanout === undefined ? `probe-${steps}-steps` : `probe-fanout-${fanout}`,
  version: 1,
  defaults: { retry: { maxAttempts: 1 }, timeout: '30s' },
  steps: Object.fromEntries(fanout === undefined ? chain(steps) : fan(fanout)),
};

// Topics and groups of its own, deleted after: a probe leaves no backlog on the shared topics for a new consumer group
// (a test's) to read through from the start.
const topicPrefix = `probe_${process.pid}.`;
const pgSchema = `probe_${process.pid}`;
const stack = await startStack({
  dir: join(countsDir, 'stack'),
  pgSchema,
  env: { ORCHESTRON_TOPIC_PREFIX: topicPrefix },
  apiPort: 0,
  workMs: 0,
  workers: ['records'],
  workerInstances: Number(values['worker-instances']),
  workerPoolSize: Number(values['worker-pool']),
  ...(values['started-after'] === undefined ? {} : { reportStartedAfterMs: Number(values['started-after']) }),
  orchestrators: Number(values.orchestrators),
  partitions: Number(values.partitions),
  collector: values.traces,
  log: () => undefined,
});
try {
  if (pins) for (const line of applyPins(pins, stack.processes)) process.stdout.write(`pinned: ${line}\n`);
  await call(stack, 'admin', 'POST', '/v1/definitions', definition);
  if (values.sql !== undefined) {
    const sql = readFileSync(values.sql, 'utf8');
    await withClient(PG_URL, (client) => client.query(`SET search_path TO "${pgSchema}"; ${sql}`));
    process.stdout.write(`ran ${values.sql} on schema ${pgSchema}\n`);
  }
  await drive(Math.min(100, runs), 'warm-up');
  await new Promise((resolve) => setTimeout(resolve, 1200));
  const before = snapshot(stack);
  const walBefore = await walPosition();
  const coresBefore = coreTimes();
  const { seconds, histogram } = await drive(runs, 'measured');
  const cores = coreBusy(coresBefore, coreTimes());
  await new Promise((resolve) => setTimeout(resolve, 1200));
  report(before, snapshot(stack), seconds, histogram);
  const walBytes = await walSince(walBefore);
  process.stdout.write(`  postgres WAL     ${(walBytes / runs / 1024).toFixed(1)} KiB/run (the whole server)\n`);
  process.stdout.write(`  while measured: ${cores}\n`);
} finally {
  if (pins) restore();
  if (!values.keep) {
    await stopStack(stack.dir, () => undefined);
    await deleteKafkaPrefix(topicPrefix).catch((e: Error) =>
      process.stderr.write(`topics not deleted: ${e.message}\n`),
    );
    await dropSchema(PG_URL, pgSchema).catch((e: Error) =>
      process.stderr.write(`schema ${pgSchema} not dropped: ${e.message}\n`),
    );
  } else process.stdout.write(`kept the stack in ${stack.dir} (topics ${topicPrefix}*, schema ${pgSchema})\n`);
}

async function drive(count: number, label: string) {
  const histogram = build();
  let next = 0;
  const began = performance.now();
  const lane = async (): Promise<void> => {
    while (next < count) {
      next += 1;
      const t0 = performance.now();
      const waitMs = values['two-requests'] ? '' : '?waitMs=30000';
      let answer = (await call(stack, 'producer', 'POST', `/v1/runs${waitMs}`, {
        definitionId: definition.id,
        input: { patientId: `p-${next}` },
      })) as { run: { id: string; status: string }; wait?: { ended: boolean } };
      const id = answer.run.id;
      while (answer.wait?.ended !== true)
        answer = (await call(stack, 'producer', 'GET', `/v1/runs/${id}/wait?timeoutMs=30000`)) as typeof answer;
      if (answer.run.status !== 'completed') throw new Error(`run ${id} ended ${answer.run.status}`);
      histogram.recordValue(Math.round((performance.now() - t0) * 1000));
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  const seconds = (performance.now() - began) / 1000;
  process.stdout.write(`${label}: ${count} runs in ${seconds.toFixed(2)} s\n`);
  return { seconds, histogram };
}

async function call(s: Stack, role: keyof Stack['keys'], method: string, path: string, body?: unknown) {
  const response = await fetch(`${s.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${s.keys[role]}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return JSON.parse(text) as unknown;
}

/** The server's WAL insert position: its growth over the measured part is every database's WAL, this schema's most. */
async function walPosition(): Promise<string> {
  const { rows } = await withClient(PG_URL, (client) =>
    client.query<{ lsn: string }>('SELECT pg_current_wal_insert_lsn()::text AS lsn'),
  );
  return rows[0]?.lsn ?? '0/0';
}

async function walSince(lsn: string): Promise<number> {
  const { rows } = await withClient(PG_URL, (client) =>
    client.query<{ bytes: string }>('SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), $1)::text AS bytes', [lsn]),
  );
  return Number(rows[0]?.bytes ?? 0);
}

interface Snapshot {
  readonly cpu: Map<number, number>;
  readonly counts: Map<number, Counts>;
  /** The servers the stack shares with everything else, by pid (PostgreSQL's backends come and go). */
  readonly servers: Record<'postgres' | 'kafka', Map<number, number>>;
}

/** CPU milliseconds a process has used, from /proc (0 once it is gone). */
function cpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return 0;
  }
}

function snapshot(s: Stack): Snapshot {
  const cpu = new Map<number, number>();
  for (const p of s.processes) cpu.set(p.pid, cpuMs(p.pid));
  const servers = {
    postgres: new Map(postgresServerPids().map((pid) => [pid, cpuMs(pid)])),
    kafka: new Map(kafkaBrokerPids().map((pid) => [pid, cpuMs(pid)])),
  };
  const counts = new Map<number, Counts>();
  for (const file of readdirSync(countsDir).filter((f) => f.endsWith('.json'))) {
    const c = JSON.parse(readFileSync(join(countsDir, file), 'utf8')) as Counts;
    counts.set(c.pid, c);
  }
  return { cpu, counts, servers };
}

function report(before: Snapshot, after: Snapshot, seconds: number, histogram: ReturnType<typeof build>): void {
  const total = runs * steps;
  const ms = (us: number) => (us / 1000).toFixed(1);
  process.stdout.write(
    `${runs} runs of ${steps} steps at ${inFlight} in flight: ${(runs / seconds).toFixed(1)} runs/s; ` +
      `p50 ${ms(histogram.getValueAtPercentile(50))} ms, p90 ${ms(histogram.getValueAtPercentile(90))} ms, ` +
      `p99 ${ms(histogram.getValueAtPercentile(99))} ms, max ${ms(histogram.maxValue)} ms\n`,
  );
  let cpuTotal = 0;
  for (const p of stack.processes) {
    const cpu = (after.cpu.get(p.pid) ?? 0) - (before.cpu.get(p.pid) ?? 0);
    cpuTotal += cpu;
    const a = after.counts.get(p.pid);
    const b = before.counts.get(p.pid);
    const kafka = Object.entries(a?.kafka ?? {})
      .map(([api, n]) => [api, (n - (b?.kafka[api] ?? 0)) / total] as const)
      .filter(([, n]) => n > 0)
      .map(([api, n]) => `${api} ${n.toFixed(2)}`)
      .join(', ');
    const postgres = ((a?.postgres ?? 0) - (b?.postgres ?? 0)) / total;
    process.stdout.write(
      `  ${p.name.padEnd(16)} cpu ${(cpu / runs).toFixed(2)} ms/run; per step: pg ${postgres.toFixed(2)}; kafka ${kafka || '-'}\n`,
    );
    if (values.queries)
      for (const [what, n] of Object.entries(a?.queries ?? {})) {
        const per = (n - (b?.queries[what] ?? 0)) / total;
        if (per > 0) process.stdout.write(`      pg ${per.toFixed(2)}/step  ${what}\n`);
      }
  }
  process.stdout.write(`  total cpu ${(cpuTotal / runs).toFixed(2)} ms/run (the stack's processes)\n`);
  for (const server of ['postgres', 'kafka'] as const) {
    let used = 0;
    for (const [pid, ms] of after.servers[server]) used += ms - (before.servers[server].get(pid) ?? 0);
    process.stdout.write(`  ${server.padEnd(16)} cpu ${(used / runs).toFixed(2)} ms/run (the whole server)\n`);
  }
}
