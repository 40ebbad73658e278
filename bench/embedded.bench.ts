/**
 * `npm run bench:embedded`: 3-step sequential runs on the embedded tier (SQLite store with synchronous=FULL,
 * in-process bus, no-op workers), closed loop at 1 and at 50 runs in flight. Prints runs/s and the
 * step-to-step latency: from a worker finishing step k to a worker starting step k+1, which covers the report,
 * the decision, the durable append and the dispatch. Also prints the events recorded per run and per step, by type:
 * every event is appended, hashed, indexed and parsed by every reader, so their number is a cost of its own.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { build } from 'hdr-histogram-js';
import { createInMemoryBus } from '@orchestron/bus';
import { Engine } from '@orchestron/runtime';
import { createSqliteEventStore } from '@orchestron/store-sqlite';
import { createWorker } from '@orchestron/worker-sdk';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '1000' },
    'serial-runs': { type: 'string', default: '200' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  process.stdout.write(
    'Usage: npm run bench:embedded [-- --runs N (at 50 in flight, default 1000)] [--serial-runs N (at 1 in flight, default 200)]\n',
  );
  process.exit(0);
}

const definition = {
  id: 'bench-three-steps',
  version: 1,
  defaults: { retry: { maxAttempts: 1 }, timeout: '30s' },
  steps: {
    a: { worker: 'bench' },
    b: { worker: 'bench', needs: ['a'] },
    c: { worker: 'bench', needs: ['b'] },
  },
};

async function scenario(inFlight: number, total: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'orchestron-bench-'));
  const store = createSqliteEventStore({ path: join(dir, 'events.sqlite') });
  const bus = createInMemoryBus();
  const engine = new Engine({ store, bus });
  const finishedAt = new Map<string, number>();
  const stepLatency = build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
  });
  const runLatency = build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 600_000_000,
    numberOfSignificantValueDigits: 3,
  });
  const worker = createWorker({
    name: 'bench',
    bus,
    concurrency: 256,
    handlers: {
      execute: async (ctx) => {
        const previous = finishedAt.get(ctx.runId);
        if (previous !== undefined)
          stepLatency.recordValue(Math.max(1, Math.round((performance.now() - previous) * 1000)));
        finishedAt.set(ctx.runId, performance.now());
        return { step: ctx.stepId };
      },
    },
  });
  await worker.start();
  await engine.start();
  await engine.definitions.register(definition, 'bench');

  const waiting = new Map<string, () => void>();
  const finished = new Set<string>();
  const recorded = new Map<string, number>();
  const watch = store.subscribeToAll({ after: 0 }, (event) => {
    if (event.streamId.startsWith('run-')) recorded.set(event.type, (recorded.get(event.type) ?? 0) + 1);
    if (event.type !== 'RunCompleted' && event.type !== 'RunFailed') return;
    const runId = event.streamId.slice('run-'.length);
    finished.add(runId);
    waiting.get(runId)?.();
  });

  let started = 0;
  let done = 0;
  const startedAt = performance.now();
  let lastReport = startedAt;
  const one = async (): Promise<void> => {
    const t0 = performance.now();
    started++;
    const { run } = await engine.startRun({ definitionId: definition.id, input: {}, actor: 'bench' });
    if (!finished.has(run.runId)) await new Promise<void>((resolve) => waiting.set(run.runId, resolve));
    waiting.delete(run.runId);
    finished.delete(run.runId);
    runLatency.recordValue(Math.max(1, Math.round((performance.now() - t0) * 1000)));
    done++;
    if (performance.now() - lastReport > 1000) {
      lastReport = performance.now();
      process.stderr.write(`  … ${done}/${total} runs\n`);
    }
  };
  const lanes = Array.from({ length: inFlight }, async () => {
    while (started < total) await one();
  });
  await Promise.all(lanes);
  const seconds = (performance.now() - startedAt) / 1000;
  await watch.close();
  await worker.stop();
  await engine.stop();
  await store.close();
  rmSync(dir, { recursive: true, force: true });

  const ms = (h: typeof stepLatency, p: number) => (h.getValueAtPercentile(p) / 1000).toFixed(2);
  process.stdout.write(
    `in flight ${String(inFlight).padStart(2)}: ${total} runs in ${seconds.toFixed(2)} s = ${(total / seconds).toFixed(1)} runs/s, ${((total * 3) / seconds).toFixed(0)} steps/s; ` +
      `step-to-step p50 ${ms(stepLatency, 50)} ms, p99 ${ms(stepLatency, 99)} ms; run p50 ${ms(runLatency, 50)} ms, p99 ${ms(runLatency, 99)} ms\n`,
  );
  process.stdout.write(`  ${eventsPerRun(recorded, total, Object.keys(definition.steps).length)}\n`);
}

/** `events per run 11.0 (3.67 a step): RunStarted 1.00, …`, counted over every run stream of the scenario. */
function eventsPerRun(recorded: ReadonlyMap<string, number>, runs: number, steps: number): string {
  const all = [...recorded.values()].reduce((sum, n) => sum + n, 0);
  const byType = [...recorded.entries()].map(([type, n]) => `${type} ${(n / runs).toFixed(2)}`).join(', ');
  return `events per run ${(all / runs).toFixed(2)} (${(all / runs / steps).toFixed(2)} a step): ${byType}`;
}

process.stdout.write(`Orchestron embedded tier, 3-step runs, Node ${process.version}\n`);
await scenario(1, Number(values['serial-runs']));
await scenario(50, Number(values.runs));
