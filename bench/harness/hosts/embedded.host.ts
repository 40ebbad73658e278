// Orchestron's embedded tier in one process, as bench/embedded.bench.ts builds it: the Engine on the SQLite event
// store (WAL, synchronous=FULL), the in-process bus, and worker-SDK workers. Run by the bench as a child process
// (so W4 can kill it and start another on the same file): node embedded.host.ts --data <dir> --effects <file>
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createInMemoryBus } from '@orchestron/bus';
import { Engine } from '@orchestron/runtime';
import { SqliteLedger } from '@orchestron/example-workers';
import { createSqliteEventStore } from '@orchestron/store-sqlite';
import { createWorker } from '@orchestron/worker-sdk';
import { closedLoop, withLimit } from '../closed-loop.ts';
import { stepsPerRun } from '../types.ts';
import type { Shape } from '../types.ts';
import { definitionId, orchestronDefinition } from '../drivers/orchestron-definition.ts';
import { hostArgs, serveHost } from './host-protocol.ts';

const WORKER = 'bench';
const args = hostArgs(process.argv.slice(2));
const dataDir = args.data as string;
const effectsFile = args.effects as string;

const store = createSqliteEventStore({ path: join(dataDir, 'events.sqlite') });
const bus = createInMemoryBus();
const engine = new Engine({ store, bus });
// The worker's idempotency ledger is the SQLite one `npm start` uses, in the same data directory, so a W4 kill -9
// loses no finished step: a step redelivered after the restart is reported from the ledger, not run again. An
// attempt whose handler was running at the kill is claimed by the dead process: the restarted worker ends it as
// WORKER.CLAIM_ABANDONED and the next attempt runs at once (the definition allows retries), not after the
// attempt's 60 s timeout.
const ledger = new SqliteLedger(join(dataDir, 'worker-ledger.sqlite'));
const worker = createWorker({
  name: WORKER,
  bus,
  concurrency: 256,
  ledger,
  handlers: {
    execute: async (ctx) => {
      const input = ctx.input as { workMs?: number; count?: boolean } | null;
      if (input?.workMs) await sleep(input.workMs);
      // W4's side-effect counter: a line per execution, written before the step reports.
      if (input?.count) appendFileSync(effectsFile, `${ctx.runId} ${ctx.stepId}\n`);
      return {};
    },
  },
});
await worker.start();
const { recovered } = await engine.start();

const registered = new Set<string>();
async function ensureDefinition(shape: Shape): Promise<string> {
  const id = definitionId(shape);
  if (!registered.has(id)) {
    await engine.definitions.register(orchestronDefinition(shape, WORKER), 'bench');
    registered.add(id);
  }
  return id;
}

/** Blocks until the run ends (long polls of at most 60 s); resolves with its status. */
async function awaitEnd(runId: string, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const waited = await engine.awaitRun(runId, { timeoutMs: Math.max(0, Math.min(60_000, deadline - Date.now())) });
    if (waited.ended) return waited.summary?.status ?? 'unknown';
    if (Date.now() >= deadline) return 'timed out';
  }
}

async function startOne(shape: Shape, count: boolean): Promise<string> {
  const { run } = await engine.startRun({
    definitionId: await ensureDefinition(shape),
    input: { workMs: shape.workMs, count },
    actor: 'bench',
  });
  return run.runId;
}

serveHost(
  {
    run: async ({ shape, inFlight, count, maxSeconds }) => {
      await ensureDefinition(shape);
      return closedLoop(inFlight, count, maxSeconds, async () => {
        const runId = await startOne(shape, false);
        const status = await awaitEnd(runId, 120_000);
        if (status !== 'completed') throw new Error(`run ${runId} ended ${status}`);
        return stepsPerRun(shape);
      });
    },
    submit: async ({ shape, count }) => {
      await ensureDefinition(shape);
      return withLimit(
        50,
        Array.from({ length: count }, () => () => startOne(shape, true)),
      );
    },
    await: async ({ handles, timeoutMs }) => {
      const statuses = await Promise.all(handles.map((runId) => awaitEnd(runId, timeoutMs)));
      return statuses.filter((s) => s === 'completed').length;
    },
    stop: async () => {
      await worker.stop();
      await engine.stop();
      await bus.close();
      await store.close();
      ledger.close();
    },
  },
  { recovered },
);
