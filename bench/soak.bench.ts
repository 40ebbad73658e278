/**
 * `npm run bench:soak`: a long closed loop of 3-step no-op runs at 50 in flight against one Orchestron tier, with the
 * resident memory of each of its processes sampled every `--sample-s` seconds. Memory should stay flat once warm:
 * the report compares each process's RSS at the end of the warm-up with its last and its highest sample after it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createDriver } from './harness/drivers/registry.ts';
import { rssMbOf } from './harness/proc-sampler.ts';
import type { Driver, Shape } from './harness/types.ts';

const HELP = `Usage: npm run bench:soak -- [--tier embedded|production] [--runs N | --minutes M] [--sample-s 60]
                              [--warmup 0.1] [--chunk 2000]

  --tier       embedded (default: in-process engine, SQLite, in-memory bus, in a child process) or production
               (the stack: one orchestrator, governance, API and a worker as processes, on Kafka and PostgreSQL)
  --runs       stop after this many runs (default 100000 for embedded)
  --minutes    stop after this long instead (default 20 for production)
  --sample-s   seconds between memory samples (default 60)
  --warmup     the share of the soak counted as warm-up (default 0.1): growth is measured after it
  --chunk      runs per closed-loop batch (default 2000); samples are taken between and during batches

Prints one line per sample (elapsed, runs done, RSS MB per process) and a summary with the growth after warm-up.
`;

const { values } = parseArgs({
  options: {
    tier: { type: 'string', default: 'embedded' },
    runs: { type: 'string' },
    minutes: { type: 'string' },
    'sample-s': { type: 'string', default: '60' },
    warmup: { type: 'string', default: '0.1' },
    chunk: { type: 'string', default: '2000' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
if (values.tier !== 'embedded' && values.tier !== 'production') {
  process.stderr.write(`bench:soak: --tier must be embedded or production, not ${JSON.stringify(values.tier)}\n`);
  process.exit(2);
}
const positive = (name: string, raw: string | undefined): number | undefined => {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) {
    process.stderr.write(`bench:soak: --${name} must be a positive number, not ${JSON.stringify(raw)}\n`);
    process.exit(2);
  }
  return n;
};
const minutes =
  positive('minutes', values.minutes) ?? (values.runs === undefined && values.tier === 'production' ? 20 : undefined);
const runs = positive('runs', values.runs) ?? (minutes === undefined ? 100_000 : Number.POSITIVE_INFINITY);
const sampleMs = (positive('sample-s', values['sample-s']) ?? 60) * 1000;
const warmup = positive('warmup', values.warmup) ?? 0.1;
const chunk = Math.floor(positive('chunk', values.chunk) ?? 2000);
const shape: Shape = { kind: 'chain', width: 3, workMs: 0 };

interface Sample {
  readonly seconds: number;
  readonly runs: number;
  readonly rss: Record<string, number>;
}

const workDir = mkdtempSync(join(tmpdir(), 'orchestron-soak-'));
const system = values.tier === 'embedded' ? 'orchestron-embedded' : 'orchestron-production-1';
const driver = createDriver(system, {
  workDir,
  tag: `soak${process.pid}`,
  log: (line) => process.stderr.write(`${line}\n`),
});
const samples: Sample[] = [];
let done = 0;
let failed = 0;
const began = Date.now();

await driver.start();
try {
  const timer = setInterval(() => record(driver), sampleMs);
  record(driver);
  const deadline = minutes === undefined ? Number.POSITIVE_INFINITY : began + minutes * 60_000;
  while (done < runs && Date.now() < deadline) {
    const count = Math.min(chunk, runs - done);
    const seconds = Math.max(1, (deadline - Date.now()) / 1000);
    const sample = await driver.runWorkload(shape, 50, count, Math.min(seconds, 3600));
    done += sample.runs;
    failed += sample.failed;
    if (sample.runs === 0) throw new Error(`no run completed in a batch: ${sample.firstError ?? 'no error given'}`);
  }
  clearInterval(timer);
  record(driver);
} finally {
  await driver.stop();
  rmSync(workDir, { recursive: true, force: true });
}
summarise();

function record(d: Driver): void {
  const rss: Record<string, number> = {};
  for (const ref of d.pids()) {
    if (ref.shared) continue;
    const total = ref.pids().reduce((sum, pid) => sum + (rssMbOf(pid) ?? 0), 0);
    if (total > 0) rss[ref.name] = total;
  }
  const s = { seconds: (Date.now() - began) / 1000, runs: done, rss };
  samples.push(s);
  const cells = Object.entries(rss).map(([name, mb]) => `${name} ${mb.toFixed(1)} MB`);
  process.stdout.write(
    `${s.seconds.toFixed(0).padStart(6)} s  ${String(done).padStart(8)} runs  ${cells.join(', ')}\n`,
  );
}

function summarise(): void {
  const total = (Date.now() - began) / 1000;
  process.stdout.write(
    `\n${system}: ${done} runs (${failed} failed) in ${total.toFixed(0)} s = ${(done / total).toFixed(1)} runs/s\n`,
  );
  const warm = samples.find((s) => s.runs >= done * warmup && s.seconds >= total * warmup) ?? samples[0];
  const after = samples.filter((s) => s.seconds >= (warm?.seconds ?? 0));
  if (warm === undefined || after.length < 2) {
    process.stdout.write('too few samples after warm-up to say whether memory stays flat; use a smaller --sample-s\n');
    return;
  }
  const last = after[after.length - 1] as Sample;
  for (const name of Object.keys(warm.rss)) {
    const from = warm.rss[name] ?? 0;
    const peak = Math.max(...after.map((s) => s.rss[name] ?? 0));
    const end = last.rss[name] ?? 0;
    const growth = from > 0 ? ((end - from) / from) * 100 : 0;
    process.stdout.write(
      `  ${name}: ${from.toFixed(1)} MB after warm-up (${warm.seconds.toFixed(0)} s), ${end.toFixed(1)} MB at the end, ` +
        `peak ${peak.toFixed(1)} MB: ${growth >= 0 ? '+' : ''}${growth.toFixed(1)}% ${growth < 10 ? '(flat: under 10% growth)' : '(grew over 10%)'}\n`,
    );
  }
}
