import { describe, expect, it } from '@jest/globals';
import { createInMemoryBus } from '@orchestron/bus';
import { createInMemoryEventStore } from '@orchestron/event-store';
import { createMetrics } from '@orchestron/telemetry';
import { createWorker } from '@orchestron/worker-sdk';
import { heldOf } from '@orchestron/workflow-core';
import { Engine } from './engine.ts';
import { flowControlFromEnv } from './flow-control.ts';
import { flowMetricsObserver } from './metrics.ts';
import { toRunView } from './views.ts';
import { closeAfterEach, eventually } from './testing/index.ts';

const oneStep = {
  id: 'one',
  version: 1,
  defaults: { retry: { maxAttempts: 3, backoff: 'fixed', initialDelay: '20ms', jitter: 'none' }, timeout: '30s' },
  steps: { only: { worker: 'w' } },
};

const RUNS = 30;
const RATE = 10;
const BURST = 2;

describe('a rate limit in the engine', () => {
  const onClose = closeAfterEach();

  /** The engine on a clock that moves only when the test moves it, so "by time t" is a number, not a wall time. */
  const boot = async () => {
    // It starts at the wall time: a worker refuses a command whose deadline has passed by its own clock.
    const T0 = Date.now();
    let now = T0;
    const store = createInMemoryEventStore();
    const bus = createInMemoryBus();
    const flowControl = flowControlFromEnv(JSON.stringify({ workers: { w: { rate: RATE, burst: BURST } } }));
    const metrics = createMetrics({ service: 'test' });
    const onFlowChange = flowMetricsObserver(metrics);
    const engine = new Engine({ store, bus, flowControl, onFlowChange, clock: { now: () => now } });
    await engine.start();
    const sentAt: number[] = [];
    const handler = async () => {
      sentAt.push(now);
      return {};
    };
    const worker = createWorker({ name: 'w', bus, concurrency: 64, handlers: { execute: handler } });
    await worker.start();
    onClose(
      () => bus.close(),
      () => engine.stop(),
      () => worker.stop(),
    );
    await engine.definitions.register(oneStep, 'test');
    return { engine, metrics, sentAt, advance: (ms: number) => (now += ms), elapsed: () => now - T0 };
  };

  it(`holds ${RUNS} runs at once to ${BURST} + ${RATE}/s·t attempts by time t, with rate_limit holds in status`, async () => {
    const { engine, metrics, sentAt, advance, elapsed } = await boot();
    const runs = await Promise.all(
      Array.from({ length: RUNS }, () => engine.startRun({ definitionId: 'one', input: {}, actor: 'test' })),
    );
    const allowed = () => Math.min(RUNS, BURST + Math.floor((RATE * elapsed()) / 1000));
    const held = await eventually('the rest to be held', () =>
      engine.flow.snapshots().find((s) => s.worker === 'w' && s.held === RUNS - BURST),
    );
    expect(held.config).toMatchObject({ rate: RATE, burst: BURST });
    expect(held.heldBy).toEqual({ breaker_open: 0, concurrency_limit: 0, rate_limit: RUNS - BURST });
    const scraped = await metrics.render();
    expect(scraped).toMatch(
      new RegExp(`orchestron_held_attempts_by_reason\\{[^}]*reason="rate_limit"[^}]*\\} ${RUNS - BURST}`),
    );
    expect(scraped).toMatch(new RegExp(`orchestron_worker_rate\\{[^}]*worker="w"[^}]*\\} ${RATE}`));
    // A held run is running, and its status says by what.
    const waiting = await engine.getRun(runs[RUNS - 1]?.run.runId ?? '');
    expect(waiting?.status).toBe('running');
    expect(heldOf(waiting?.steps.only)).toMatchObject({ reason: 'rate_limit', worker: 'w' });
    expect(toRunView(waiting!).steps[0]?.held).toMatchObject({ reason: 'rate_limit', worker: 'w' });
    const checkpoints: { t: number; sent: number }[] = [];
    while (sentAt.length < RUNS) {
      await eventually(`${allowed()} sent by t=${elapsed()} ms`, () => sentAt.length >= allowed());
      // The release timer fires within 100 ms of wall time: give it twice that to send one too many.
      await new Promise((resolve) => setTimeout(resolve, 200));
      checkpoints.push({ t: elapsed(), sent: sentAt.length });
      expect(sentAt.length).toBe(allowed());
      // Steps of burst/rate: the bucket refills to burst and no more, so each step lets exactly rate·step out.
      advance((1000 * BURST) / RATE);
    }
    expect(checkpoints).toHaveLength(1 + (RUNS - BURST) / BURST);
    // Dispatch times on the test's clock: no window of t ms holds more than burst + rate·t of them.
    for (let i = 0; i < sentAt.length; i++)
      for (let j = i; j < sentAt.length; j++)
        expect(j - i + 1).toBeLessThanOrEqual(BURST + (RATE * ((sentAt[j] ?? 0) - (sentAt[i] ?? 0))) / 1000);
    for (const { run } of runs)
      await eventually(`run ${run.runId}`, async () => (await engine.getRun(run.runId))?.status === 'completed');
    const reasons = (await Promise.all(runs.map(({ run }) => engine.history(run.runId))))
      .flat()
      .filter((e) => e.type === 'StepHeld')
      .map((e) => (e.data as { reason: string }).reason);
    expect(reasons).toHaveLength(RUNS - BURST);
    expect(new Set(reasons)).toEqual(new Set(['rate_limit']));
    expect(engine.flow.snapshots().find((s) => s.worker === 'w')?.held).toBe(0);
  }, 30_000);

  it('queues rate holds again, with their reason, when another engine takes the runs over', async () => {
    const now = Date.now();
    const store = createInMemoryEventStore();
    const bus = createInMemoryBus();
    const flowControl = { workers: { w: { rate: 1, burst: 1 } } };
    const clock = { now: () => now };
    const first = new Engine({ store, bus, flowControl, clock });
    await first.start();
    await first.definitions.register(oneStep, 'test');
    const runs = await Promise.all(
      Array.from({ length: 4 }, () => first.startRun({ definitionId: 'one', input: {}, actor: 'test' })),
    );
    await eventually('three held', () => first.flow.snapshots().find((s) => s.heldBy.rate_limit === 3));
    await first.stop();
    // No worker answers: the one sent stays out, and the new engine's bucket (full) lets exactly one more go.
    const second = new Engine({ store, bus, flowControl, clock });
    onClose(
      () => bus.close(),
      () => second.stop(),
    );
    await second.start();
    const after = await eventually('the holds queued again', () =>
      second.flow.snapshots().find((s) => s.worker === 'w' && s.held === 2),
    );
    expect(after.heldBy).toEqual({ breaker_open: 0, concurrency_limit: 0, rate_limit: 2 });
    const released = await Promise.all(runs.map(({ run }) => second.history(run.runId)));
    expect(released.filter((h) => h.some((e) => e.type === 'StepReleased'))).toHaveLength(1);
  });

  it('reads rate and burst from ORCHESTRON_FLOW_CONTROL and names a bad one', () => {
    expect(flowControlFromEnv('{"workers":{"api":{"rate":10,"burst":2}}}')).toEqual({
      workers: { api: { rate: 10, burst: 2 } },
    });
    expect(() => flowControlFromEnv('{"workers":{"api":{"rate":0}}}')).toThrow(
      /ORCHESTRON_FLOW_CONTROL\.workers\.api: flow gate rate must be a number of attempts per second above 0/,
    );
    expect(() => flowControlFromEnv('{"defaults":{"rate":5,"burst":0.5}}')).toThrow(
      /ORCHESTRON_FLOW_CONTROL\.defaults: flow gate burst must be an integer of at least 1/,
    );
    expect(() => flowControlFromEnv('{"workers":{"api":{"rate":"10/s"}}}')).toThrow(
      /ORCHESTRON_FLOW_CONTROL\.workers\.api\.rate must be a number/,
    );
  });
});
