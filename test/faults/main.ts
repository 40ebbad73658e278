// npm run test:faults — the fault suite on the production-shaped stack, with its table of figures.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { FAULTS } from './faults.ts';
import type { FaultName } from './faults.ts';
import { faultTable } from './report.ts';
import { runSuite } from './suite.ts';

const HELP = `Usage: npm run test:faults -- [--runs 3000] [--in-flight 1000] [--repeats 3] [--faults all]
                               [--seed N] [--session-ms 6000] [--partitions 6] [--work-ms 20]
                               [--approve-after-ms 40000]
                               [--hostile 300] [--out file.md] [--keep-logs]

Starts the production-shaped stack (two orchestrators, governance, two instances of each example worker, the API;
separate processes on PostgreSQL) on a Kafka broker of its own, then for each fault one round: --runs runs of every
kind (the stack e2e mix: onboarding with approvals, retries, compensation and denials; vendor payments), --in-flight
of them kept started and not ended, while the fault is injected --repeats times at random points. A first round
without a fault checks the oracle. Every run must end as predicted from its input; the table shows per fault the
runs lost, stuck and ending wrong, executions done twice, 5xx answers, and how soon the stack came back.

  --faults      comma-separated, or all (default): ${FAULTS.join(', ')}
  --seed        the random points; a failing run prints its seed, give it again to replay (default: random)
  --session-ms  the services' Kafka session timeout; the pause lasts 3 s longer (default 6000)
  --approve-after-ms  how long a gate waits for its approval, as a person takes; with the API's start rate on
                a small machine (about 60/s) it is what holds 1,000 runs in flight (default 40000)
  --hostile     hostile messages on the stack's topics and defective API requests after the rounds; 0 for none
  --out         also write the table and the injections to this Markdown file

Exit status: 0 when every round passed, 1 when one failed (the logs are kept then), 2 on bad arguments.
Needs: PostgreSQL on 127.0.0.1:5432 (ORCHESTRON_PG_URL), Java 17 and Maven for Kafka. Takes 10–20 minutes.
`;

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3000' },
    'in-flight': { type: 'string', default: '1000' },
    repeats: { type: 'string', default: '3' },
    faults: { type: 'string', default: 'all' },
    seed: { type: 'string' },
    'session-ms': { type: 'string', default: '6000' },
    partitions: { type: 'string', default: '6' },
    'work-ms': { type: 'string', default: '20' },
    'approve-after-ms': { type: 'string', default: '40000' },
    hostile: { type: 'string', default: '300' },
    out: { type: 'string' },
    'keep-logs': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
const bad = (message: string): never => {
  process.stderr.write(`test:faults: ${message} (--help for usage)\n`);
  process.exit(2);
};
const integer = (name: keyof typeof values, min: number, max: number): number => {
  const n = Number(values[name]);
  if (!Number.isInteger(n) || n < min || n > max)
    bad(`--${name} must be an integer from ${min} to ${max}, not ${String(values[name])}`);
  return n;
};
const faults =
  values.faults === 'all'
    ? [...FAULTS]
    : (values.faults ?? '').split(',').map((f) => {
        const name = f.trim();
        if (!(FAULTS as readonly string[]).includes(name))
          bad(`unknown fault "${name}"; the faults are ${FAULTS.join(', ')}`);
        return name as FaultName;
      });
const seed = values.seed === undefined ? Math.floor(Math.random() * 1_000_000) : integer('seed', 0, 2 ** 31 - 1);
const runs = integer('runs', 10, 100_000);
const inFlight = integer('in-flight', 1, 10_000);

const result = await runSuite({
  faults,
  runs,
  inFlight,
  repeats: integer('repeats', 1, 20),
  seed,
  sessionTimeoutMs: integer('session-ms', 1_000, 60_000),
  partitions: integer('partitions', 1, 64),
  workMs: integer('work-ms', 0, 10_000),
  approveAfterMs: integer('approve-after-ms', 0, 600_000),
  hostile: integer('hostile', 0, 10_000),
  pgUrl: process.env.ORCHESTRON_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
  keepLogs: values['keep-logs'],
  log: (line) => void process.stdout.write(`${line}\n`),
});
const table = faultTable(result.rounds);
const hostile = result.hostile
  ? `\nHostile input on the stack: ${result.hostile.deadLettered}/${result.hostile.published} messages dead-lettered with a reason, ` +
    `${result.hostile.requests - result.hostile.notRefused.length}/${result.hostile.requests} requests refused with a 4xx, ` +
    `services dead afterwards: ${result.hostile.deadServices.length}, a payment afterwards: ${result.hostile.afterwardMs === undefined ? 'FAILED' : `${result.hostile.afterwardMs} ms`}\n`
  : '';
process.stdout.write(`\n${table}\n${hostile}\nseed ${seed}${result.logs ? `; logs kept in ${result.logs}` : ''}\n`);
if (values.out) writeFileSync(values.out, `${table}\n${hostile}\nseed ${seed}\n`);
process.exit(result.ok ? 0 : 1);
