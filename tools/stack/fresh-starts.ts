// npm run test:stack-starts — N starts in a row, each on a freshly formatted private broker: format it, start the
// whole stack on it, serve a run, stop both. Any start that fails fails the script. The shared broker is not touched.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { startFreshBroker } from './fresh-broker.ts';
import type { FreshBroker } from './fresh-broker.ts';
import { completePayment } from './stack-runs.ts';
import { startStack, stopStack } from './stack.ts';
import type { Stack } from './stack.ts';

const HELP = `Usage: npm run test:stack-starts [-- --starts 10 --port <p> --controller-port <p> --keep-logs]

Starts the whole stack (two orchestrators, governance, two of each example worker, the API) --starts times in a
row, each time on a NEW Kafka broker formatted for it (infra/kafka/kafka.sh with its own ORCHESTRON_KAFKA_HOME
under the system's temp dir, on free ports unless --port/--controller-port say; never 9092), checks that it
serves a run (a vendor payment through governance and a worker), and stops both. Prints one line per start and
a table; exits 1 if any start failed. Needs PostgreSQL (ORCHESTRON_PG_URL); each start uses its own schema,
dropped afterwards. --keep-logs keeps every start's logs (they are kept anyway for a start that failed).
`;

const { values } = parseArgs({
  options: {
    starts: { type: 'string', default: '10' },
    port: { type: 'string' },
    'controller-port': { type: 'string' },
    'keep-logs': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
const starts = Number(values.starts);
const portOf = (name: 'port' | 'controller-port'): number | undefined => {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1024 || port > 65535) usage(`--${name} must be a port from 1024 to 65535`);
  return port;
};
if (!Number.isInteger(starts) || starts < 1 || starts > 100) usage('--starts must be an integer from 1 to 100');
const port = portOf('port');
const controllerPort = portOf('controller-port');

const PG_URL = process.env.ORCHESTRON_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const root = mkdtempSync(join(tmpdir(), 'orchestron-stack-starts-'));
const cache = join(root, 'kafka-classpath');

interface Row {
  readonly start: number;
  readonly ok: boolean;
  readonly brokerMs: number;
  readonly stackMs: number;
  readonly runMs: number;
  /** Joins that found the coordinator not ready and waited (from the processes' logs). */
  readonly coordinatorWaits: number;
  readonly error?: string;
}

const rows: Row[] = [];
for (let i = 1; i <= starts; i++) {
  const row = await oneStart(i);
  rows.push(row);
  process.stdout.write(
    `start ${i}/${starts}: ${row.ok ? 'ok' : 'FAILED'}  broker ${secs(row.brokerMs)}  stack ${secs(row.stackMs)}  run ${secs(row.runMs)}  coordinator waits ${row.coordinatorWaits}${row.error ? `\n  ${row.error.split('\n').join('\n  ')}` : ''}\n`,
  );
}
const failed = rows.filter((r) => !r.ok).length;
process.stdout.write(
  [
    '',
    '| start | result | fresh broker up | stack up | first run completed | coordinator waits |',
    '| ----: | ------ | --------------: | -------: | ------------------: | ----------------: |',
    ...rows.map(
      (r) =>
        `| ${r.start} | ${r.ok ? 'ok' : 'FAILED'} | ${secs(r.brokerMs)} | ${secs(r.stackMs)} | ${secs(r.runMs)} | ${r.coordinatorWaits} |`,
    ),
    '',
    `${starts - failed} of ${starts} starts on fresh brokers served a run${failed ? `; ${failed} failed (logs kept in ${root})` : ''}`,
    '',
  ].join('\n'),
);
if (failed === 0 && !values['keep-logs']) rmSync(root, { recursive: true, force: true });
process.exit(failed === 0 ? 0 : 1);

async function oneStart(i: number): Promise<Row> {
  const schema = `stack_starts_${process.pid}_${i}`;
  const dir = join(root, `start-${i}`, 'stack');
  let broker: FreshBroker | undefined;
  let stack: Stack | undefined;
  const times = { brokerMs: 0, stackMs: 0, runMs: 0 };
  let error: string | undefined;
  let waits: number;
  try {
    broker = await startFreshBroker({
      home: join(root, `broker-${i}`),
      classpathCache: cache,
      ...(port === undefined ? {} : { port }),
      ...(controllerPort === undefined ? {} : { controllerPort }),
    });
    times.brokerMs = broker.startMs;
    const began = Date.now();
    stack = await startStack({
      dir,
      brokers: broker.brokers,
      pgUrl: PG_URL,
      pgSchema: schema,
      apiPort: 0,
      workMs: 20,
      collector: false,
      log: () => undefined,
    });
    times.stackMs = Date.now() - began;
    times.runMs = await completePayment(stack, `start-${i}`);
  } catch (thrown) {
    error = thrown instanceof Error ? thrown.message : String(thrown);
  } finally {
    await stopStack(dir, () => undefined).catch(() => undefined);
    waits = coordinatorWaits(join(dir, 'logs'));
    await broker?.stop().catch((thrown: unknown) => {
      error ??= `stopping the broker: ${String(thrown)}`;
    });
    await dropSchema(schema);
    if (error === undefined && !values['keep-logs']) rmSync(join(root, `start-${i}`), { recursive: true, force: true });
  }
  return { start: i, ok: error === undefined, ...times, coordinatorWaits: waits, ...(error ? { error } : {}) };
}

function coordinatorWaits(logs: string): number {
  if (!existsSync(logs)) return 0;
  return readdirSync(logs).reduce(
    (n, file) =>
      n + (readFileSync(join(logs, file), 'utf8').match(/kafka group coordinator not ready yet/g)?.length ?? 0),
    0,
  );
}

async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL });
  try {
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end().catch(() => undefined);
  }
}

function secs(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function usage(message: string): never {
  process.stderr.write(`stack-starts: ${message}\n\n${HELP}`);
  process.exit(2);
}
