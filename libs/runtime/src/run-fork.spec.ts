/** Fork on both tiers: the embedded Engine starts it itself; RemoteRuns sends it over the bus through the outbox. */
import { describe, expect, it } from '@jest/globals';
import { Topics, createInMemoryBus } from '@orchestron/bus';
import type { DeliveredMessage } from '@orchestron/bus';
import { createInMemoryEventStore } from '@orchestron/event-store';
import { createWorker, TerminalError } from '@orchestron/worker-sdk';
import { Engine } from './engine.ts';
import { RemoteRuns } from './remote-runs.ts';
import { closeAfterEach, eventually, startedRun } from './testing/index.ts';

const pair = {
  id: 'pair',
  version: 1,
  defaults: { retry: { maxAttempts: 1 }, timeout: '10s' },
  steps: {
    a: { worker: 'fw', action: 'a' },
    b: { worker: 'fw', action: 'b', needs: ['a'], input: { got: '${{ steps.a.output.n }}', fix: '${{ input.fix }}' } },
  },
};

describe('fork', () => {
  const onClose = closeAfterEach();

  const boot = async () => {
    const store = createInMemoryEventStore();
    const bus = createInMemoryBus({ partitions: 3 });
    const ran: string[] = [];
    const worker = createWorker({
      name: 'fw',
      bus,
      handlers: {
        a: async (ctx) => (ran.push(`${ctx.runId}/a`), { n: 41 }),
        b: async (ctx) => {
          ran.push(`${ctx.runId}/b`);
          if ((ctx.input as { fix?: boolean }).fix !== true) throw new TerminalError('not fixed');
          return { ok: (ctx.input as { got: number }).got + 1 };
        },
      },
    });
    const engine = new Engine({ store, bus });
    await worker.start();
    await engine.start();
    onClose(
      () => bus.close(),
      () => engine.stop(),
      () => worker.stop(),
    );
    await engine.definitions.register(pair, 'test', 'acme');
    const { run } = await engine.startRun({ definitionId: 'pair', input: { fix: false }, actor: 'p', tenant: 'acme' });
    const failed = await eventually('the parent fails', async () => {
      const r = await engine.getRun(run.runId);
      return r?.status === 'failed' ? r : undefined;
    });
    const history = await engine.history(run.runId);
    const afterA = history.find((e) => e.type === 'StepCompleted')?.revision as number;
    return { store, bus, engine, ran, parent: failed, afterA };
  };

  it('on the Engine: a new run from the parent at a revision, in its tenant, running only what was not done', async () => {
    const { engine, ran, parent, afterA } = await boot();
    const { run } = await engine.startRun({
      fork: { runId: parent.runId, revision: afterA, reason: 'fixed' },
      input: { fix: true },
      actor: 'operator:o',
      tenant: 'acme',
    });
    expect(run).toMatchObject({
      tenant: 'acme',
      forkedFrom: { runId: parent.runId, revision: afterA, reason: 'fixed' },
    });
    const done = await eventually('the fork completes', async () => {
      const r = await engine.getRun(run.runId);
      return r?.status === 'completed' ? r : undefined;
    });
    expect(done.steps['b']).toMatchObject({ status: 'completed', output: { ok: 42 } });
    expect(ran.filter((r) => r.startsWith(run.runId))).toEqual([`${run.runId}/b`]);
    await expect(
      engine.startRun({ fork: { runId: parent.runId, revision: 999 }, actor: 'o', tenant: 'acme' }),
    ).rejects.toMatchObject({ code: 'COMMAND.INVALID', details: { field: 'at' } });
    await expect(
      engine.startRun({ fork: { runId: parent.runId, revision: 1 }, actor: 'o', tenant: 'globex' }),
    ).rejects.toMatchObject({ code: 'RUN.NOT_FOUND' });
  });

  it('through RemoteRuns: the start message carries the fork, and the orchestrator builds it from the history', async () => {
    const { store, bus, engine, ran, parent, afterA } = await boot();
    const starts: DeliveredMessage[] = [];
    await bus.subscribe({ topics: [Topics.workflowStarts], group: 'tap' }, async (m) => {
      starts.push(m);
    });
    const remote = new RemoteRuns({ store, bus, waitMs: 5_000 });
    await remote.start();
    onClose(() => remote.stop());
    const { run, created } = await startedRun(
      remote.startRun({
        fork: { runId: parent.runId, revision: afterA },
        input: { fix: true },
        actor: 'operator:o',
        tenant: 'acme',
      }),
    );
    expect(created).toBe(true);
    expect(run.forkedFrom).toEqual({ runId: parent.runId, revision: afterA, reason: null });
    const sent = await eventually('the start message', async () => starts[0]?.value);
    expect(sent).toMatchObject({
      definitionId: 'pair',
      fork: { runId: parent.runId, revision: afterA },
      tenant: 'acme',
    });
    await eventually('the fork completes', async () =>
      (await engine.getRun(run.runId))?.status === 'completed' ? true : undefined,
    );
    expect(ran.filter((r) => r.startsWith(run.runId))).toEqual([`${run.runId}/b`]);
    // Refused by the API, before anything is published.
    await expect(
      remote.startRun({ fork: { runId: parent.runId, revision: 999 }, actor: 'o', tenant: 'acme' }),
    ).rejects.toMatchObject({ code: 'COMMAND.INVALID' });
  });
});
