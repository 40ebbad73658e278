import { describe, expect, it } from '@jest/globals';
import { Topics, createInMemoryBus } from '@orchestron/bus';
import type { DeliveredMessage, GovernanceRequestMessage, MessageBus } from '@orchestron/bus';
import { createInMemoryEventStore } from '@orchestron/event-store';
import type { EventStore } from '@orchestron/event-store';
import { inputDigest } from '@orchestron/workflow-core';
import { runIdForKey } from './dispatch-messages.ts';
import { Engine } from './engine.ts';
import { OrchestratorPendingError, RemoteRuns } from './remote-runs.ts';
import { closeAfterEach, eventually, startedRun } from './testing/index.ts';

const guarded = {
  id: 'guarded',
  version: 1,
  defaults: { retry: { maxAttempts: 1 }, timeout: '10s' },
  steps: {
    pay: { worker: 'payments', action: 'charge', sideEffect: true, input: { amount: '${{ input.amount }}' } },
    gate: { type: 'approval', needs: ['pay'] },
  },
};

const slow = {
  id: 'slow',
  version: 1,
  defaults: { retry: { maxAttempts: 3, backoff: 'fixed', initialDelay: '10ms', jitter: 'none' }, timeout: '150ms' },
  steps: { only: { worker: 'nobody' } },
};

/** Collects what is published on some topics. */
function tap(
  bus: MessageBus,
  topics: readonly string[],
): Promise<DeliveredMessage[]> & { readonly seen: DeliveredMessage[] } {
  const seen: DeliveredMessage[] = [];
  const ready = bus
    .subscribe({ topics, group: `tap-${topics.join(',')}` }, async (message) => {
      seen.push(message);
    })
    .then(() => seen);
  return Object.assign(ready, { seen });
}

describe('the engine as a service on the bus', () => {
  const onClose = closeAfterEach();

  const boot = async (
    options: { governance?: 'bus'; instances?: number } = {},
  ): Promise<{ store: EventStore; bus: MessageBus; engines: Engine[] }> => {
    const store = createInMemoryEventStore();
    const bus = createInMemoryBus({ partitions: 6 });
    const engines: Engine[] = [];
    for (let i = 0; i < (options.instances ?? 1); i++) {
      // Every attempt of the 'slow' runs times out: a breaker would (rightly) hold them, which is not what these tests are about.
      const engine = new Engine({
        store,
        bus,
        ...(options.governance ? { governance: options.governance } : {}),
        metadata: { instance: `o-${i}` },
        flowControl: { defaults: { failureThreshold: 1000 } },
      });
      await engine.start();
      engines.push(engine);
      onClose(() => engine.stop());
    }
    onClose(() => bus.close());
    return { store, bus, engines };
  };

  it('starts a run from a workflow.start message once, however often it is delivered, and dead-letters a bad one with the reason', async () => {
    const { bus, engines } = await boot();
    const [engine] = engines as [Engine];
    await engine.definitions.register(guarded, 'test');
    const letters = tap(bus, [Topics.deadLetters]);
    await letters;
    const start = {
      type: 'workflow.start',
      definitionId: 'guarded',
      input: { amount: 5 },
      idempotencyKey: 'order-1',
      actor: 'producer:shop',
    };
    const runId = runIdForKey('guarded', 'order-1');
    await bus.publish(Topics.workflowStarts, [
      { key: runId, value: start },
      { key: runId, value: start },
    ]);
    await bus.publish(Topics.workflowStarts, [
      { key: 'x', value: { type: 'workflow.start', definitionId: 'guarded' } },
    ]);
    const run = await eventually('the run', async () => (await engine.getRun(runId)) ?? undefined);
    expect(run.startedBy).toBe('producer:shop');
    const letter = await eventually('a dead letter', () => letters.seen[0]);
    expect((letter.value as { reason: string }).reason).toMatch(/idempotencyKey/);
    await eventually('both starts handled', async () => (await engine.history(runId)).length > 1);
    expect((await engine.history(runId)).filter((e) => e.type === 'RunStarted')).toHaveLength(1);
  });

  it('asks the governance service over the bus and applies only a decision for the input it asked about', async () => {
    const { bus, engines } = await boot({ governance: 'bus' });
    const [engine] = engines as [Engine];
    const requests = tap(bus, [Topics.governanceRequests]);
    const commands = tap(bus, [Topics.commands('payments')]);
    await Promise.all([requests, commands]);
    const { run } = await engine.startRun({ definition: guarded, input: { amount: 1500 }, actor: 'test' });
    const asked = await eventually('a governance request', () => requests.seen[0]);
    const request = asked.value as GovernanceRequestMessage;
    expect(asked.key).toBe(run.runId);
    expect(request).toMatchObject({
      type: 'governance.request',
      runId: run.runId,
      stepId: 'pay',
      worker: 'payments',
      action: 'charge',
      input: { amount: 1500 },
      inputDigest: inputDigest({ amount: 1500 }),
    });
    const decision = {
      type: 'governance.decision',
      requestId: request.requestId,
      runId: run.runId,
      stepId: 'pay',
      outcome: 'allow',
      policyId: 'p-1',
      reason: 'fine',
      decidedAt: 1,
      decidedBy: 'g-1',
    };
    await bus.publish(Topics.governanceDecisions, [
      { key: run.runId, value: { ...decision, inputDigest: inputDigest({ amount: 1 }) } },
    ]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await engine.getRun(run.runId))?.steps.pay?.status).toBe('waiting_governance');
    await bus.publish(Topics.governanceDecisions, [
      { key: run.runId, value: { ...decision, inputDigest: request.inputDigest } },
    ]);
    await eventually('the dispatch', () => commands.seen[0]);
    const history = await engine.history(run.runId);
    expect(history.find((e) => e.type === 'GovernanceDecided')?.data).toMatchObject({
      outcome: 'allow',
      policyId: 'p-1',
      reason: 'fine',
    });
    expect(history.find((e) => e.type === 'GovernanceDecided')?.metadata.actor).toBe('system:governance:g-1');
  });

  it('applies operator commands sent over the bus with their id in the events, and refuses a forged step report', async () => {
    const { bus, engines } = await boot();
    const [engine] = engines as [Engine];
    const letters = tap(bus, [Topics.deadLetters]);
    await letters;
    const { run } = await engine.startRun({ definition: slow, input: {}, actor: 'test' });
    await bus.publish(Topics.operatorCommands, [
      {
        key: run.runId,
        value: {
          type: 'operator.command',
          commandId: 'c-1',
          runId: run.runId,
          actor: 'operator:ann',
          command: { type: 'Cancel', data: { reason: 'not needed' } },
        },
      },
    ]);
    await eventually('the cancel', async () => (await engine.getRun(run.runId))?.status === 'cancelled');
    const cancelled = (await engine.history(run.runId)).find((e) => e.type === 'RunCancelled');
    expect(cancelled?.metadata).toMatchObject({ commandId: 'c-1', actor: 'operator:ann', instance: 'o-0' });
    await bus.publish(Topics.operatorCommands, [
      {
        key: run.runId,
        value: {
          type: 'operator.command',
          commandId: 'c-2',
          runId: run.runId,
          actor: 'mallory',
          command: { type: 'RecordStepCompleted', data: { stepId: 'only', attempt: 1, phase: 'execute', output: {} } },
        },
      },
    ]);
    const letter = await eventually('a dead letter', () => letters.seen[0]);
    expect((letter.value as { reason: string }).reason).toMatch(/RecordStepCompleted" is not an operator command/);
  });

  it("arms a run's timers only on the instance that owns its partition", async () => {
    const { engines } = await boot({ instances: 2 });
    const [a, b] = engines as [Engine, Engine];
    await a.definitions.register(slow, 'test');
    const runs = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        a.startRun({ definitionId: 'slow', input: {}, idempotencyKey: `k-${i}`, actor: 'test' }),
      ),
    );
    // Both instances handled nothing but a's starts; only the owners hold the timers.
    expect(a.scheduledTimers + b.scheduledTimers).toBeLessThanOrEqual(12);
    expect(a.scheduledTimers).toBeLessThan(12);
    // Each attempt times out and is retried by the owner of its run: every run ends failed after 3 attempts.
    for (const { run } of runs)
      await eventually(`run ${run.runId} failed`, async () => (await b.getRun(run.runId))?.status === 'failed', 10_000);
    for (const { run } of runs)
      expect((await a.history(run.runId)).filter((e) => e.type === 'StepDispatched')).toHaveLength(3);
  });

  it('owns no run until the group hands it partitions: an engine fed by its host arms timers only after assign', async () => {
    const { store, bus, engines } = await boot();
    const [a] = engines as [Engine];
    const patient = { ...slow, id: 'patient', defaults: { ...slow.defaults, timeout: '60s' } };
    await a.definitions.register(patient, 'test');
    for (let i = 0; i < 3; i++)
      await a.startRun({ definitionId: 'patient', input: {}, idempotencyKey: `p-${i}`, actor: 'test' });
    const b = new Engine({ store, bus, consume: false, group: 'another-group' });
    await b.start();
    onClose(() => b.stop());
    expect(b.scheduledTimers).toBe(0);
    await b.assign(Array.from({ length: 6 }, (_, partition) => ({ topic: Topics.stepEvents, partition })));
    expect(b.scheduledTimers).toBe(3);
    await b.assign([]);
    expect(b.scheduledTimers).toBe(0);
  });

  it('RemoteRuns starts runs and sends operator commands through the bus, and says when no orchestrator answers', async () => {
    const { store, bus, engines } = await boot();
    const [engine] = engines as [Engine];
    await engine.definitions.register(slow, 'test');
    const remote = new RemoteRuns({ store, bus, waitMs: 2_000 });
    await remote.start();
    onClose(() => remote.stop());
    const { run, created } = await startedRun(
      remote.startRun({ definitionId: 'slow', input: {}, idempotencyKey: 'r-1', actor: 'producer:p' }),
    );
    expect(created).toBe(true);
    expect(run.runId).toBe(runIdForKey('slow', 'r-1'));
    expect(
      (
        await startedRun(
          remote.startRun({ definitionId: 'slow', input: {}, idempotencyKey: 'r-1', actor: 'producer:p' }),
        )
      ).created,
    ).toBe(false);
    await expect(
      remote.startRun({ definitionId: 'slow', input: { other: 1 }, idempotencyKey: 'r-1', actor: 'producer:p' }),
    ).rejects.toMatchObject({ code: 'RUN.ALREADY_EXISTS' });
    await expect(remote.execute(run.runId, { type: 'Resume', data: {} }, 'operator:o')).rejects.toMatchObject({
      code: 'RUN.NOT_PAUSED',
    });
    const paused = await remote.execute(run.runId, { type: 'Pause', data: { reason: 'look' } }, 'operator:o');
    expect(paused.status).toBe('paused');
    expect((await remote.listRuns({})).map((r) => r.id)).toContain(run.runId);
    await engine.stop();
    await expect(remote.execute(run.runId, { type: 'Resume', data: {} }, 'operator:o')).rejects.toBeInstanceOf(
      OrchestratorPendingError,
    );
  });

  it('RemoteRuns answers at once, with the domain code, when the orchestrator refuses a command the run no longer takes', async () => {
    const { store, bus, engines } = await boot();
    const [engine] = engines as [Engine];
    await engine.definitions.register(slow, 'test');
    // Longer than Jest lets a test run: an answer that waited for it would fail the test.
    const remote = new RemoteRuns({ store, bus, waitMs: 120_000 });
    await remote.start();
    onClose(() => remote.stop());
    const { run } = await startedRun(
      remote.startRun({ definitionId: 'slow', input: {}, idempotencyKey: 'twice', actor: 'producer:p' }),
    );
    // Both pass the API's check on the running run; the orchestrator applies one, and the other finds the run cancelled.
    const answers = await Promise.allSettled(
      [1, 2].map((n) => remote.execute(run.runId, { type: 'Cancel', data: { reason: `cancel ${n}` } }, 'operator:o')),
    );
    expect(answers.map((a) => a.status).sort()).toEqual(['fulfilled', 'rejected']);
    const refused = answers.find((a) => a.status === 'rejected') as PromiseRejectedResult;
    expect(refused.reason).toMatchObject({
      code: 'RUN.ALREADY_TERMINAL',
      message: expect.stringContaining('the orchestrator refused it'),
    });
    expect((await remote.getRun(run.runId))?.status).toBe('cancelled');
  });
});
