/**
 * `npm run bench:failover`: how the production stack rides out a kill -9 of one of its two orchestrators and a broker
 * restart (issue 11, ADR 22). On a PRIVATE broker (tools/stack/fresh-broker.ts; the shared one on 9092 is never
 * touched), under a steady open-loop load of vendor payments, it reports from the runs' completion times:
 * - the longest time any of the survivor's own partitions completed nothing, from the kill to 5 s after takeover,
 *   next to the same figure over the same length of time before the kill;
 * - how long after the kill (and after the survivor took them over) every moved partition completed a run again;
 * - after the killed instance is restarted and rejoins, the longest gap on any partition;
 * - after a broker restart, how long after the broker answered again the completion rate was back to 80%.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { startFreshBroker } from '../tools/stack/fresh-broker.ts';
import type { FreshBroker } from '../tools/stack/fresh-broker.ts';
import { startPayment } from '../tools/stack/stack-runs.ts';
import { killStackProcess, restartStackProcess, startStack, stopStack } from '../tools/stack/stack.ts';
import type { Stack } from '../tools/stack/stack.ts';
import { CompletionWatch, ownershipLog, steadyLoad, waitFor } from './failover/observe.ts';
import { backAfter, longestGapOf, rateIn, timeToRate } from './failover/timeline.ts';

const HELP = `Usage: npm run bench:failover -- [--rate 20] [--partitions 6] [--session-ms 10000] [--warm-s 15]
                                  [--no-broker-restart] [--keep-logs]

  --rate         runs started per second, open loop (default 20)
  --partitions   partitions of every topic (default 6)
  --session-ms   the services' Kafka session timeout: how soon a killed member is noticed (default 10000; the
                 private broker allows down to 1000)
  --warm-s       steady load before each fault (default 15)
`;

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '20' },
    partitions: { type: 'string', default: '6' },
    'session-ms': { type: 'string', default: '10000' },
    'warm-s': { type: 'string', default: '15' },
    'no-broker-restart': { type: 'boolean', default: false },
    'keep-logs': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
const number = (name: 'rate' | 'partitions' | 'session-ms' | 'warm-s', min: number, max: number): number => {
  const n = Number(values[name]);
  if (!Number.isFinite(n) || n < min || n > max) {
    process.stderr.write(`bench:failover: --${name} must be a number from ${min} to ${max}, not ${values[name]}\n`);
    process.exit(2);
  }
  return n;
};
const rate = number('rate', 1, 500);
const partitions = number('partitions', 2, 64);
const sessionMs = number('session-ms', 1000, 60_000);
const warmMs = number('warm-s', 3, 600) * 1000;
const PG_URL = process.env.ORCHESTRON_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const schema = `failover_bench_${process.pid}`;
const root = mkdtempSync(join(tmpdir(), 'orchestron-failover-'));
const dir = join(root, 'stack');
const log = (line: string): void => void process.stdout.write(`${line}\n`);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const secs = (ms: number | undefined): string => (ms === undefined ? 'never' : `${(ms / 1000).toFixed(1)} s`);

let broker: FreshBroker | undefined;
let watch: CompletionWatch | undefined;
const rows: [string, string][] = [];
let ok = false;
try {
  broker = await startFreshBroker({ home: join(root, 'broker'), groupMinSessionTimeoutMs: 1000 });
  log(`broker ${broker.brokers.join(',')} up in ${secs(broker.startMs)}`);
  let stack: Stack = await startStack({
    dir,
    brokers: broker.brokers,
    pgUrl: PG_URL,
    pgSchema: schema,
    apiPort: 0,
    workMs: 10,
    orchestrators: 2,
    workerInstances: 2,
    workers: ['payments'],
    partitions,
    sessionTimeoutMs: sessionMs,
    collector: false,
    log: () => undefined,
  });
  log(`stack up: ${stack.url}; ${rate} runs/s over ${partitions} partitions, session ${secs(sessionMs)}`);
  watch = new CompletionWatch(PG_URL, schema, partitions);
  await watch.start();
  const completions = watch.completions;
  const load = steadyLoad((key) => startPayment(stack, key), rate);
  await sleep(warmMs);

  // kill -9 of orchestrator-1: the survivor's partitions should not stop; the moved ones come back after its session.
  const survivorLog = (stack.processes.find((p) => p.name === 'orchestrator-2') as { logFile: string }).logFile;
  const before = ownershipLog(survivorLog).at(-1);
  if (before === undefined) throw new Error('orchestrator-2 logged no assignment');
  const kept = [...before.owned];
  const moved = Array.from({ length: partitions }, (_, p) => p).filter((p) => !kept.includes(p));
  await killStackProcess(stack, 'orchestrator-1', 'SIGKILL');
  const killedAt = Date.now();
  log(`killed orchestrator-1; orchestrator-2 keeps ${kept.join(',')}, ${moved.join(',')} move`);
  const takeover = await waitFor(
    () => ownershipLog(survivorLog).find((o) => o.at >= killedAt && o.gained.length > 0),
    sessionMs * 3 + 30_000,
  );
  if (takeover === undefined) throw new Error('orchestrator-2 never took over the moved partitions');
  await sleep(5_000);
  const span = takeover.at + 5_000 - killedAt;
  const gap = longestGapOf(completions, kept, killedAt, takeover.at + 5_000);
  const usual = longestGapOf(completions, kept, killedAt - span, killedAt);
  rows.push(
    ['survivor takes over the moved partitions, after the kill', secs(takeover.at - killedAt)],
    [`longest gap on the survivor's own partitions, kill to takeover + 5 s`, `${secs(gap.ms)} (p${gap.partition})`],
    [`  the same, over as long before the kill`, `${secs(usual.ms)} (p${usual.partition})`],
    ['every moved partition completed again, after the kill', secs(backAfter(completions, moved, killedAt))],
    ['  after the takeover', secs(backAfter(completions, moved, takeover.at))],
  );

  // The killed instance comes back: the group hands partitions back while both keep serving.
  const rejoinFrom = Date.now();
  stack = await restartStackProcess(stack, 'orchestrator-1');
  await sleep(10_000);
  const all = Array.from({ length: partitions }, (_, p) => p);
  const rejoin = longestGapOf(completions, all, rejoinFrom, Date.now());
  rows.push(['orchestrator-1 restarted: longest gap on any partition', `${secs(rejoin.ms)} (p${rejoin.partition})`]);

  if (!values['no-broker-restart']) {
    await sleep(warmMs);
    const steady = rateIn(completions, Date.now() - 10_000, Date.now());
    const { downAt, readyAt } = await broker.restart();
    log(`broker restarted: down ${secs(readyAt - downAt)}`);
    await sleep(30_000);
    const back = timeToRate(completions, readyAt, steady * 0.8, 2_000, Date.now());
    rows.push(
      [`steady rate before the broker restart`, `${steady.toFixed(1)} runs/s`],
      [`broker answered again after`, secs(readyAt - downAt)],
      [`back to 80% of the rate (2 s window), after the broker answered`, secs(back)],
    );
  }
  const { started, failed } = await load.stop();
  rows.push(['runs started (failed starts)', `${started} (${failed})`]);
  ok = true;
} catch (error) {
  process.stderr.write(`bench:failover: ${error instanceof Error ? error.message : String(error)}\n`);
} finally {
  await watch?.stop();
  await stopStack(dir, () => undefined).catch(() => undefined);
  await broker?.stop().catch(() => undefined);
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await client.end();
}
process.stdout.write(
  [
    '',
    `| kill -9 of 1 of 2 orchestrators, then a broker restart (session ${secs(sessionMs)}, ${rate} runs/s) | |`,
    '| --- | ---: |',
    ...rows.map(([what, figure]) => `| ${what} | ${figure} |`),
    '',
  ].join('\n'),
);
if (ok && !values['keep-logs']) rmSync(root, { recursive: true, force: true });
else process.stdout.write(`logs kept in ${dir}/logs\n`);
process.exit(ok ? 0 : 1);
