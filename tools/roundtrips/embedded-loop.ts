/**
 * `node tools/roundtrips/embedded-loop.ts`: the embedded tier's closed loop as `npm run bench` runs it
 * (bench/harness/hosts/embedded.host.ts: the Engine on SQLite with synchronous=FULL, the in-process bus, a no-op
 * worker with the SQLite idempotency ledger, each run started and then awaited), in this one process, so that
 * `node --cpu-prof` sees all of it.
 * A diagnostic for the hot path, not the benchmark. Prints runs/s for each round.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createInMemoryBus } from '@orchestron/bus';
import { Engine } from '@orchestron/runtime';
import { createSqliteEventStore } from '@orchestron/store-sqlite';
import { SqliteLedger } from '@orchestron/example-workers';
import { createWorker } from '@orchestron/worker-sdk';
import { closedLoop } from '../../bench/harness/closed-loop.ts';
import { definitionId, orchestronDefinition } from '../../bench/harness/drivers/orchestron-definition.ts';
import type { Shape } from '../../bench/harness/types.ts';

const HELP = `Usage: node tools/roundtrips/embedded-loop.ts [--rounds 1000,1000,5000] [--in-flight 50] [--steps 3]
       [--ledger sqlite|memory]
Runs a round of closed-loop runs (a chain of --steps no-op steps, --in-flight at once) per number in --rounds, in
one process, on a fresh SQLite file; the first rounds warm the process up. Prints each round's runs/s.
--ledger memory gives the worker the SDK's in-memory ledger instead of the SQLite one the bench host uses.`;

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '1000,1000,5000' },
    'in-flight': { type: 'string', default: '50' },
    steps: { type: 'string', default: '3' },
    ledger: { type: 'string', default: 'sqlite' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  process.stdout.write(`${HELP}\n`);
  process.exit(0);
}
const rounds = values.rounds.split(',').map((n) => positive(n, '--rounds'));
const inFlight = positive(values['in-flight'], '--in-flight');
const shape: Shape = { kind: 'chain', width: positive(values.steps, '--steps'), workMs: 0 };
if (values.ledger !== 'sqlite' && values.ledger !== 'memory') {
  process.stderr.write(`--ledger: expected sqlite or memory, got ${JSON.stringify(values.ledger)}\n`);
  process.exit(2);
}

function positive(text: string, option: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) {
    process.stderr.write(`${option}: expected a positive integer, got ${JSON.stringify(text)}\n`);
    process.exit(2);
  }
  return n;
}

const dir = mkdtempSync(join(tmpdir(), 'orchestron-embedded-loop-'));
const store = createSqliteEventStore({ path: join(dir, 'events.sqlite') });
const bus = createInMemoryBus();
const engine = new Engine({ store, bus });
const ledger = values.ledger === 'sqlite' ? new SqliteLedger(join(dir, 'worker-ledger.sqlite')) : undefined;
const worker = createWorker({
  name: 'bench',
  bus,
  concurrency: 256,
  ...(ledger ? { ledger } : {}),
  handlers: { execute: async () => ({}) },
});
try {
  await worker.start();
  await engine.start();
  await engine.definitions.register(orchestronDefinition(shape, 'bench'), 'bench');
  for (const count of rounds) {
    const sample = await closedLoop(inFlight, count, 600, async () => {
      const { run } = await engine.startRun({ definitionId: definitionId(shape), input: {}, actor: 'bench' });
      const waited = await engine.awaitRun(run.runId, { timeoutMs: 60_000 });
      if (waited.summary?.status !== 'completed') throw new Error(`run ${run.runId} ended ${waited.summary?.status}`);
      return shape.width;
    });
    const rate = (sample.runs / sample.seconds).toFixed(0);
    const failed = sample.failed > 0 ? `, ${sample.failed} failed (${sample.firstError})` : '';
    process.stdout.write(
      `${sample.runs} runs at ${inFlight} in flight in ${sample.seconds.toFixed(2)} s: ${rate} runs/s${failed}\n`,
    );
  }
} finally {
  await worker.stop();
  await engine.stop();
  await bus.close();
  await store.close();
  ledger?.close();
  rmSync(dir, { recursive: true, force: true });
}
