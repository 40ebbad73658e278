import { describe, expect, it } from '@jest/globals';
import { createInMemoryBus } from '@orchestron/bus';
import { createInMemoryEventStore } from '@orchestron/event-store';
import { RetryableError, createWorker } from '@orchestron/worker-sdk';
import { heldOf } from '@orchestron/workflow-core';
import { Engine } from './engine.ts';
import { flowControlFromEnv } from './flow-control.ts';
import type { FlowControlSettings, FlowSnapshot } from './flow-control.ts';
import { toRunView } from './views.ts';
import { closeAfterEach, eventually } from './testing/index.ts';

const oneStep = {
  id: 'one',
  version: 1,
  defaults: { retry: { maxAttempts: 6, backoff: 'fixed', initialDelay: '20ms', jitter: 'none' }, timeout: '5s' },
  steps: { only: { worker: 'w' } },
};

describe('flow control in the engine', () => {
  const onClose = closeAfterEach();

  const boot = async (flowControl: FlowControlSettings, handler: (ctx: { stepId: string }) => Promise<unknown>) => {
    const store = createInMemoryEventStore();
    const bus = createInMemoryBus();
    const snapshots: FlowSnapshot[] = [];
    const engine = new Engine({ store, bus, flowControl, onFlowChange: (s) => snapshots.push(s) });
    await engine.start();
    const worker = createWorker({ name: 'w', bus, concurrency: 32, handlers: { execute: handler } });
    await worker.start();
    onClose(
      () => bus.close(),
      () => engine.stop(),
      () => worker.stop(),
    );
    await engine.definitions.register(oneStep, 'test');
    return { engine, snapshots };
  };

  it('opens a breaker after consecutive failures: runs wait instead of failing, and a probe closes it', async () => {
    let calls = 0;
    let failures = 0;
    // Open for 5 s: the later runs must be dispatched within it, which a busy CI machine has taken over 2 s to do.
    const { engine, snapshots } = await boot({ defaults: { failureThreshold: 3, openMs: 5_000 } }, async () => {
      calls++;
      if (calls <= 3) {
        failures++;
        throw new RetryableError('DOWN', 'the service behind the worker is down');
      }
      return { ok: true };
    });
    const first = await engine.startRun({ definitionId: 'one', input: {}, actor: 'test' });
    await eventually('three failures', () => failures === 3);
    // The worker has failed three times; the orchestrator opens the breaker once it has taken in the third report.
    await eventually(
      'the breaker to open',
      () => engine.flow.snapshots().find((s) => s.worker === 'w')?.state.breaker === 'open',
    );
    const later = await Promise.all(
      Array.from({ length: 5 }, () => engine.startRun({ definitionId: 'one', input: {}, actor: 'test' })),
    );
    // The hold is in the history whatever happened since (a hold seen only in the current state may be released already).
    const heldRunId = await eventually('a held step', async () => {
      for (const { run: started } of later) {
        const hold = (await engine.history(started.runId)).find((e) => e.type === 'StepHeld');
        if (hold) return { runId: started.runId, hold };
      }
      return undefined;
    });
    expect(heldRunId.hold.data).toMatchObject({ stepId: 'only', reason: 'breaker_open', worker: 'w' });
    const held = { runId: heldRunId.runId };
    for (const { run } of [first, ...later])
      await eventually(`run ${run.runId}`, async () => (await engine.getRun(run.runId))?.status === 'completed');
    // Three failures, then one probe and the rest: nothing was sent to the worker while the breaker was open.
    expect(calls).toBe(3 + 6);
    expect(snapshots.some((s) => s.state.breaker === 'open')).toBe(true);
    expect(engine.flow.snapshots().find((s) => s.worker === 'w')?.state.breaker).toBe('closed');
    const history = await engine.history(held.runId);
    expect(history.map((e) => e.type)).toEqual(expect.arrayContaining(['StepHeld', 'StepReleased', 'StepCompleted']));
  });

  it('keeps a worker at its concurrency limit: the rest are held and released as slots free', async () => {
    let running = 0;
    let peak = 0;
    const { engine } = await boot({ workers: { w: { concurrency: 2 } } }, async () => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((resolve) => setTimeout(resolve, 30));
      running--;
      return {};
    });
    const runs = await Promise.all(
      Array.from({ length: 8 }, () => engine.startRun({ definitionId: 'one', input: {}, actor: 'test' })),
    );
    for (const { run } of runs)
      await eventually(`run ${run.runId}`, async () => (await engine.getRun(run.runId))?.status === 'completed');
    expect(peak).toBe(2);
    const reasons = (await Promise.all(runs.map(({ run }) => engine.history(run.runId))))
      .flat()
      .filter((e) => e.type === 'StepHeld')
      .map((e) => (e.data as { reason: string }).reason);
    expect(reasons.length).toBeGreaterThanOrEqual(6);
    expect(new Set(reasons)).toEqual(new Set(['concurrency_limit']));
  });

  it('frees a slot when its attempt stops being out without an outcome (an operator skips the step)', async () => {
    const { engine } = await boot({ workers: { w: { concurrency: 1 } } }, () => new Promise(() => undefined));
    const first = await engine.startRun({ definitionId: 'one', input: {}, actor: 'test' });
    const second = await engine.startRun({ definitionId: 'one', input: {}, actor: 'test' });
    const waiting = await eventually('the second to be held', async () => {
      const run = await engine.getRun(second.run.runId);
      return heldOf(run?.steps.only) ? run : undefined;
    });
    // Held, the run is still running, and its view says by what.
    expect(waiting.status).toBe('running');
    expect(toRunView(waiting).steps[0]?.held).toMatchObject({ reason: 'concurrency_limit', worker: 'w' });
    await engine.execute(
      first.run.runId,
      { type: 'SkipStep', data: { stepId: 'only', output: { skipped: true }, reason: 'done by hand' } },
      'operator:ann',
    );
    const released = await eventually('the second to be released', async () => {
      const history = await engine.history(second.run.runId);
      return history.some((e) => e.type === 'StepReleased') ? history : undefined;
    });
    expect(released.map((e) => e.type)).toContain('StepHeld');
    expect(engine.flow.snapshots().find((f) => f.worker === 'w')?.state.inflight).toBe(1);
  });

  it('reads its settings from ORCHESTRON_FLOW_CONTROL and names a bad field', () => {
    expect(flowControlFromEnv('{"defaults":{"failureThreshold":4},"workers":{"payments":{"concurrency":3}}}')).toEqual({
      defaults: { failureThreshold: 4 },
      workers: { payments: { concurrency: 3 } },
    });
    expect(() => flowControlFromEnv('{"workers":{"payments":{"concurency":3}}}')).toThrow(
      /workers\.payments\.concurency is not a setting/,
    );
    expect(() => flowControlFromEnv('{"defaults":{"failureThreshold":0}}')).toThrow(/defaults.*failureThreshold/);
    expect(() => flowControlFromEnv('nope')).toThrow(/not JSON/);
  });
});
