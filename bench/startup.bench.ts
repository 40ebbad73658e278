/**
 * `npm run bench:startup`: how long a process takes to start its read side (run index, definitions) as the log
 * grows, without a checkpoint (replay from position 0) and with one (restore, then catch up the events after it).
 * For each size it fills a fresh store with runs of 10 events as the engine records them, lets a start save a
 * checkpoint, appends a tail of runs after it, then times cold starts in child processes: the median of --repeat.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { measureStart, openLocation } from './startup/measure.ts';
import type { StartMeasurement, StoreLocation } from './startup/measure.ts';
import { fillRuns, recordTemplate } from './startup/run-template.ts';
import type { RunTemplate } from './startup/run-template.ts';

const USAGE = `Usage: npm run bench:startup -- [options]
  --events 10000,100000,1000000   log sizes to measure (default 10000,100000,1000000)
  --store sqlite|postgres         the store (default sqlite; postgres uses ORCHESTRON_PG_URL or
                                  postgres://postgres@127.0.0.1:5432/test, in a throwaway schema ckpt_bench_*)
  --tail N                        events appended after the checkpoint, caught up at start (default 1000)
  --repeat N                      cold starts per figure, the median is printed (default 3)
  -h, --help
`;

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '10000,100000,1000000' },
    store: { type: 'string', default: 'sqlite' },
    tail: { type: 'string', default: '1000' },
    repeat: { type: 'string', default: '3' },
    child: { type: 'string' },
    where: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
const PG_URL = process.env['ORCHESTRON_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
if (values.child !== undefined) {
  // A measuring child: one start, its figures as one JSON line.
  const location: StoreLocation = {
    kind: values.store as StoreLocation['kind'],
    where: values.where ?? '',
    url: PG_URL,
  };
  process.stdout.write(`${JSON.stringify(await measureStart(location, values.child === 'checkpoint'))}\n`);
  process.exit(0);
}

const sizes = values.events.split(',').map((text) => Number(text.trim()));
const tail = Number(values.tail);
const repeat = Number(values.repeat);
if (values.store !== 'sqlite' && values.store !== 'postgres') fail('--store must be sqlite or postgres');
if (sizes.some((n) => !Number.isSafeInteger(n) || n < 1)) fail('--events must be positive integers, comma-separated');
if (!Number.isSafeInteger(tail) || tail < 0) fail('--tail must be a non-negative integer');
if (!Number.isSafeInteger(repeat) || repeat < 1) fail('--repeat must be a positive integer');

function fail(message: string): never {
  process.stderr.write(`${message}\n\n${USAGE}`);
  process.exit(2);
}

function child(location: StoreLocation, mode: 'replay' | 'checkpoint'): StartMeasurement {
  const args = [import.meta.filename, '--child', mode, '--store', location.kind, '--where', location.where];
  const out = execFileSync(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').at(-1) ?? '') as StartMeasurement;
}

function median(measurements: StartMeasurement[]): StartMeasurement {
  const sorted = [...measurements].sort((a, b) => a.startMs - b.startMs);
  return sorted[Math.floor(sorted.length / 2)] as StartMeasurement;
}

async function newLocation(): Promise<{ location: StoreLocation; remove: () => Promise<void> }> {
  if (values.store === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'ckpt-startup-'));
    const location: StoreLocation = { kind: 'sqlite', where: join(dir, 'events.sqlite'), url: PG_URL };
    return { location, remove: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const schema = `ckpt_bench_${randomBytes(4).toString('hex')}`;
  const remove = async (): Promise<void> => {
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  };
  return { location: { kind: 'postgres', where: schema, url: PG_URL }, remove };
}

async function fill(location: StoreLocation, template: RunTemplate, events: number, firstRun: number) {
  const store = await openLocation(location);
  const started = performance.now();
  let reported = started;
  if (firstRun === 0) await store.append(template.registration.streamId, template.registration.events);
  const runs = await fillRuns(store, template, events, {
    firstRun,
    progress: (done) => {
      if (performance.now() - reported < 5_000) return;
      reported = performance.now();
      process.stderr.write(`  … ${done.toLocaleString('en')} / ${events.toLocaleString('en')} events\n`);
    },
  });
  await store.close();
  return { runs, seconds: (performance.now() - started) / 1000 };
}

interface Row {
  readonly events: number;
  readonly fillSeconds: number;
  readonly replay: StartMeasurement;
  readonly restore: StartMeasurement;
  readonly saved: StartMeasurement['saved'];
  readonly saveMaxBlockMs: number;
}

async function measureSize(template: RunTemplate, size: number): Promise<Row> {
  const { location, remove } = await newLocation();
  try {
    process.stderr.write(`${size.toLocaleString('en')} events: filling the ${location.kind} store…\n`);
    const filled = await fill(location, template, size, 0);
    const saving = child(location, 'checkpoint');
    await fill(location, template, tail, filled.runs);
    process.stderr.write(`  filled in ${filled.seconds.toFixed(1)} s; timing ${repeat} cold starts each way…\n`);
    const replay = median(Array.from({ length: repeat }, () => child(location, 'replay')));
    const restore = median(Array.from({ length: repeat }, () => child(location, 'checkpoint')));
    if (restore.restored === undefined) throw new Error('the start with a checkpoint did not restore one');
    return {
      events: replay.position,
      fillSeconds: filled.seconds,
      replay,
      restore,
      saved: saving.saved,
      saveMaxBlockMs: saving.saveMaxBlockMs,
    };
  } finally {
    await remove();
  }
}

const mb = (bytes: number | undefined): string => (bytes === undefined ? '–' : (bytes / 1024 / 1024).toFixed(1));
const ms = (value: number | undefined): string => (value === undefined ? '–' : Math.round(value).toLocaleString('en'));

const template = await recordTemplate();
process.stdout.write(
  `Read-side start-up, ${values.store} store, Node ${process.version}, ${cpus().length} cores, ` +
    `${new Date().toISOString().slice(0, 16)}Z, runs of ${template.eventsPerRun} events, ` +
    `tail of ${tail} events after the checkpoint, median of ${repeat} cold starts\n\n` +
    '| events | runs | start, no checkpoint (ms) | start, checkpoint (ms) | of which restore (ms) | RSS, no checkpoint (MB) | RSS, checkpoint (MB) | checkpoint (MB) | save (ms) | of which store write (ms) | longest block while saving (ms) | fill (s) | load avg |\n' +
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n',
);
for (const size of sizes) {
  const row = await measureSize(template, size);
  process.stdout.write(
    `| ${row.events.toLocaleString('en')} | ${row.restore.runs.toLocaleString('en')} | ${ms(row.replay.startMs)} | ` +
      `${ms(row.restore.startMs)} | ${ms(row.restore.restored?.ms)} | ${mb(row.replay.rss)} | ${mb(row.restore.rss)} | ` +
      `${mb(row.saved?.bytes)} | ${ms(row.saved?.ms)} | ${ms(row.saved?.writeMs)} | ${ms(row.saveMaxBlockMs)} | ` +
      `${row.fillSeconds.toFixed(1)} | ${loadavg()[0]?.toFixed(1)} |\n`,
  );
}
