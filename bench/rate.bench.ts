/**
 * `npm run bench:rate`: one embedded engine (in-memory store and bus), one worker limited by a token bucket, and
 * `--runs` runs started at once. Prints the calls the worker received per second of wall time, and the most in any
 * one-second window, as the gate let them out (from the runs' histories) and as the worker received them (the bus
 * and a busy event loop can bunch deliveries), against the bound burst + rate·t the gate promises.
 */
import { parseArgs } from 'node:util';
import { createInMemoryBus } from '@orchestron/bus';
import { createInMemoryEventStore } from '@orchestron/event-store';
import { Engine, silentLogger } from '@orchestron/runtime';
import { createWorker } from '@orchestron/worker-sdk';

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '10' },
    burst: { type: 'string', default: '2' },
    runs: { type: 'string', default: '60' },
  },
});
const rate = Number(values.rate);
const burst = Number(values.burst);
const runs = Number(values.runs);

const store = createInMemoryEventStore();
const bus = createInMemoryBus();
const flowControl = { workers: { w: { rate, burst } } };
const engine = new Engine({ store, bus, flowControl, logger: silentLogger });
await engine.start();
const calls: number[] = [];
const worker = createWorker({
  name: 'w',
  bus,
  concurrency: 256,
  handlers: { execute: async () => (calls.push(performance.now()), {}) },
});
await worker.start();
await engine.definitions.register(
  { id: 'rated', version: 1, defaults: { timeout: '5m' }, steps: { only: { worker: 'w' } } },
  'bench',
);
const start = performance.now();
const started = await Promise.all(
  Array.from({ length: runs }, () => engine.startRun({ definitionId: 'rated', input: {}, actor: 'bench' })),
);
while (calls.length < runs) await new Promise((resolve) => setTimeout(resolve, 50));
const seconds = (calls[calls.length - 1]! - start) / 1000;
// When the gate let each attempt through, from the run's history: its release, or its dispatch if never held.
const sentAt = await Promise.all(
  started.map(async ({ run }) => {
    const history = await engine.history(run.runId);
    const sent = history.find((e) => e.type === 'StepReleased') ?? history.find((e) => e.type === 'StepDispatched');
    return (sent?.data as { at: number }).at;
  }),
);
const peak = (times: number[]): number => {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; j < sorted.length; j++) {
    while (sorted[j]! - sorted[i]! >= 1000) i++;
    most = Math.max(most, j - i + 1);
  }
  return most;
};
process.stdout.write(
  [
    `rate ${rate}/s, burst ${burst}, ${started.length} runs started at once`,
    `worker calls: ${calls.length} in ${seconds.toFixed(2)} s: ${((calls.length - burst) / seconds).toFixed(2)}/s after the burst`,
    `most in any 1 s window (bound burst + rate = ${burst + rate}): sent by the gate ${peak(sentAt)}, received by the worker ${peak(calls)}`,
  ].join('\n') + '\n',
);
await worker.stop();
await engine.stop();
await bus.close();
