import { describe, expect, it } from '@jest/globals';
import { Topics, createInMemoryBus } from '@orchestron/bus';
import type { DeliveredMessage, MessageBus } from '@orchestron/bus';
import { createInMemoryEventStore } from '@orchestron/event-store';
import type { EventStore } from '@orchestron/event-store';
import { correlationStream } from './correlation-stream.ts';
import { Engine } from './engine.ts';
import { RemoteRuns } from './remote-runs.ts';
import { closeAfterEach, eventually, startedRun } from './testing/index.ts';

const invoice = {
  id: 'invoice',
  version: 1,
  steps: {
    confirmed: { type: 'event', event: 'bank.confirmed', match: '${{ input.invoiceId }}', timeout: '1h' },
  },
};
const short = { ...invoice, id: 'short', steps: { confirmed: { ...invoice.steps.confirmed, timeout: '100ms' } } };

/** A clock the test moves: buffer windows are hours long. */
function testClock(): { now(): number; advance(ms: number): void } {
  let offset = 0;
  return { now: () => Date.now() + offset, advance: (ms) => (offset += ms) };
}

describe('events from outside for event steps (embedded engine)', () => {
  const onClose = closeAfterEach();
  const clock = testClock();

  const boot = async (store: EventStore = createInMemoryEventStore(), bus: MessageBus = createInMemoryBus()) => {
    const engine = new Engine({ store, bus, clock, eventBufferMs: 60_000 });
    await engine.start();
    onClose(() => engine.stop());
    for (const def of [invoice, short]) {
      await engine.definitions.register(def, 'test');
      await engine.definitions.register(def, 'test', 'acme');
    }
    return { engine, store, bus };
  };
  const waitingRun = async (engine: Engine, invoiceId: string, tenant = 'default', def = 'invoice') => {
    const { run } = await startedRun(
      engine.startRun({ definitionId: def, input: { invoiceId }, actor: 'test', tenant, idempotencyKey: invoiceId }),
    );
    await eventually('the wait registered', async () =>
      (await engine.history(run.runId)).some((e) => e.type === 'EventWaitStarted'),
    );
    // The wait is registered in the correlation stream in the background.
    await eventually('the waiter', async () => (await store(engine, tenant, invoiceId)).length > 0);
    return run.runId;
  };
  const store = (engine: Engine, tenant: string, key: string) =>
    (engine as unknown as { store: EventStore }).store.readStream(correlationStream(tenant, 'bank.confirmed', key));
  const send = (engine: Engine, key: string, id: string, o: { tenant?: string; payload?: unknown } = {}) =>
    engine.sendEvent({
      tenant: o.tenant ?? 'default',
      name: 'bank.confirmed',
      key,
      id,
      payload: o.payload ?? { amount: 10 },
      actor: 'producer:bank',
    });

  it('delivers an event to the run waiting for its key: the payload is the output, and the run completes', async () => {
    const { engine } = await boot();
    const runId = await waitingRun(engine, 'inv-1');
    await waitingRun(engine, 'inv-2');
    expect(await send(engine, 'inv-1', 'e1')).toEqual({
      status: 'delivered',
      eventId: 'e1',
      deliveredTo: [{ runId, stepId: 'confirmed' }],
    });
    const run = await engine.getRun(runId);
    expect(run).toMatchObject({ status: 'completed', steps: { confirmed: { output: { amount: 10 } } } });
  });

  it('ignores a duplicate event id, saying where the first one went', async () => {
    const { engine } = await boot();
    const runId = await waitingRun(engine, 'inv-3');
    await send(engine, 'inv-3', 'e1');
    expect(await send(engine, 'inv-3', 'e1', { payload: { amount: 99 } })).toEqual({
      status: 'duplicate',
      eventId: 'e1',
      deliveredTo: [{ runId, stepId: 'confirmed' }],
    });
    expect((await engine.getRun(runId))?.steps.confirmed).toMatchObject({ output: { amount: 10 } });
  });

  it('buffers an event that comes first, and hands it to the first step that waits within the window, once', async () => {
    const { engine } = await boot();
    const answer = await send(engine, 'inv-4', 'early', { payload: { amount: 4 } });
    expect(answer).toMatchObject({ status: 'buffered', eventId: 'early', deliveredTo: [] });
    const { run } = await startedRun(
      engine.startRun({ definitionId: 'invoice', input: { invoiceId: 'inv-4' }, actor: 'test', idempotencyKey: 'a' }),
    );
    const done = await eventually('the run completed by the buffered event', async () => {
      const r = await engine.getRun(run.runId);
      return r?.status === 'completed' ? r : undefined;
    });
    expect(done.steps.confirmed).toMatchObject({ output: { amount: 4 } });
    // Consumed: a second run for the same key waits.
    const second = await waitingRun(engine, 'inv-4');
    expect((await engine.getRun(second))?.steps.confirmed?.status).toBe('waiting_event');
  });

  it('never loses an event racing a step that starts waiting for it: each run gets its event, once', async () => {
    const { engine } = await boot();
    const keys = Array.from({ length: 20 }, (_, i) => `race-${i}`);
    const runs = await Promise.all(
      keys.map(async (key, i) => {
        const [started] = await Promise.all([
          startedRun(
            engine.startRun({ definitionId: 'invoice', input: { invoiceId: key }, actor: 't', idempotencyKey: key }),
          ),
          // Half the events go first, half right after the start: every interleaving with the wait's registration.
          new Promise((resolve) => setTimeout(resolve, i % 2)).then(() =>
            send(engine, key, `e-${key}`, { payload: i }),
          ),
        ]);
        return { runId: started.run.runId, i };
      }),
    );
    for (const { runId, i } of runs) {
      const done = await eventually(`run ${runId} completed`, async () => {
        const r = await engine.getRun(runId);
        return r?.status === 'completed' ? r : undefined;
      });
      expect(done.steps.confirmed).toMatchObject({ output: i });
      const received = (await engine.history(runId)).filter((e) => e.type === 'ExternalEventReceived');
      expect(received).toHaveLength(1);
    }
  });

  it('a re-drive waits afresh: the event the step had before is not handed to the new wait', async () => {
    const { engine } = await boot();
    const redo = {
      id: 'redo',
      version: 1,
      onFailure: 'fail',
      steps: {
        confirmed: invoice.steps.confirmed,
        book: { worker: 'nobody', needs: ['confirmed'], timeout: '50ms', retry: { maxAttempts: 1 } },
      },
    };
    await engine.definitions.register(redo, 'test');
    const runId = await waitingRun(engine, 'inv-11', 'default', 'redo');
    await send(engine, 'inv-11', 'first', { payload: 1 });
    await eventually('the run failed at book', async () => (await engine.getRun(runId))?.status === 'failed');
    await engine.execute(
      runId,
      { type: 'Redrive', data: { stepId: 'confirmed', reason: 'wrong confirmation' } },
      'ops',
    );
    await eventually(
      'waiting again',
      async () => (await engine.getRun(runId))?.steps.confirmed?.status === 'waiting_event',
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await engine.getRun(runId))?.steps.confirmed?.status).toBe('waiting_event');
    expect(await send(engine, 'inv-11', 'second', { payload: 2 })).toMatchObject({
      status: 'delivered',
      deliveredTo: [{ runId, stepId: 'confirmed' }],
    });
    expect((await engine.getRun(runId))?.steps.confirmed).toMatchObject({ status: 'completed', output: 2 });
  });

  it('lets a buffered event expire after the buffer window', async () => {
    const { engine } = await boot();
    await send(engine, 'inv-5', 'stale');
    clock.advance(61_000);
    const runId = await waitingRun(engine, 'inv-5');
    expect((await engine.getRun(runId))?.steps.confirmed?.status).toBe('waiting_event');
  });

  it("never delivers another tenant's event to my runs", async () => {
    const { engine } = await boot();
    const mine = await waitingRun(engine, 'inv-6', 'acme');
    expect(await send(engine, 'inv-6', 'x1')).toMatchObject({ status: 'buffered' });
    expect((await engine.getRun(mine))?.steps.confirmed?.status).toBe('waiting_event');
    expect(await send(engine, 'inv-6', 'x2', { tenant: 'acme' })).toMatchObject({ status: 'delivered' });
  });

  it('does not deliver to a step that timed out: the event is buffered instead', async () => {
    const { engine } = await boot();
    const runId = await waitingRun(engine, 'inv-7', 'default', 'short');
    await eventually('the timeout', async () => (await engine.getRun(runId))?.steps.confirmed?.status === 'failed');
    expect(await engine.getRun(runId)).toMatchObject({
      status: 'failed',
      steps: { confirmed: { error: { code: 'EVENT.TIMED_OUT' } } },
    });
    expect(await send(engine, 'inv-7', 'late')).toMatchObject({ status: 'buffered' });
  });

  it('hands over again on recovery an event recorded for a run that did not take it (a crash in between)', async () => {
    const shared = createInMemoryEventStore();
    const { engine } = await boot(shared);
    const runId = await waitingRun(engine, 'inv-8');
    const waiting = (await engine.getRun(runId))?.steps.confirmed;
    const since = waiting?.status === 'waiting_event' ? waiting.since : -1;
    await engine.stop();
    // What a process that died after recording the delivery, before telling the run, leaves behind.
    await shared.append(correlationStream('default', 'bank.confirmed', 'inv-8'), [
      {
        type: 'ExternalEventAccepted',
        data: {
          tenant: 'default',
          name: 'bank.confirmed',
          key: 'inv-8',
          eventId: 'lost',
          payload: { amount: 8 },
          by: 'producer:bank',
          at: clock.now(),
          expiresAt: clock.now() + 60_000,
          deliveredTo: [{ runId, stepId: 'confirmed', since }],
        },
      },
    ]);
    const { engine: restarted } = await boot(shared);
    const run = await eventually('the run completed on recovery', async () => {
      const r = await restarted.getRun(runId);
      return r?.status === 'completed' ? r : undefined;
    });
    expect(run.steps.confirmed).toMatchObject({ output: { amount: 8 } });
  });

  it('takes events from orchestron.external.events and dead-letters a malformed or oversized one with the reason', async () => {
    const { engine, bus } = await boot();
    const letters: DeliveredMessage[] = [];
    await bus.subscribe({ topics: [Topics.deadLetters], group: 'dlq-tap' }, async (m) => {
      letters.push(m);
    });
    const runId = await waitingRun(engine, 'inv-9');
    await bus.publish(Topics.externalEvents, [
      { key: 'bad', value: { type: 'external.event', name: 'bank.confirmed' } },
      {
        key: 'big',
        value: {
          type: 'external.event',
          name: 'bank.confirmed',
          key: 'inv-9',
          id: 'big',
          payload: 'x'.repeat(300_000),
        },
      },
      {
        key: 'default/bank.confirmed/inv-9',
        value: { type: 'external.event', name: 'bank.confirmed', key: 'inv-9', id: 'k1', payload: { amount: 9 } },
      },
    ]);
    await eventually('the run completed', async () => (await engine.getRun(runId))?.status === 'completed');
    await eventually('two dead letters', () => letters.length === 2);
    const reasons = letters.map((l) => (l.value as { reason: string }).reason);
    expect(reasons[0]).toMatch(/key/);
    expect(reasons[1]).toMatch(/over the limit of 262144/);
    expect((await engine.getRun(runId))?.steps.confirmed?.status).toBe('completed');
  });

  it('answers on the production tier through the bus, and a duplicate from the stream', async () => {
    const { engine, store: s, bus } = await boot();
    const remote = new RemoteRuns({ store: s, bus, waitMs: 5_000 });
    await remote.start();
    onClose(() => remote.stop());
    const runId = await waitingRun(engine, 'inv-10');
    const request = { tenant: 'default', name: 'bank.confirmed', key: 'inv-10', id: 'r1', payload: 1, actor: 'p' };
    expect(await remote.sendEvent(request)).toEqual({
      status: 'delivered',
      eventId: 'r1',
      deliveredTo: [{ runId, stepId: 'confirmed' }],
    });
    expect(await remote.sendEvent(request)).toMatchObject({ status: 'duplicate' });
    expect(await remote.sendEvent({ ...request, key: 'none', id: 'r2' })).toMatchObject({ status: 'buffered' });
  });
});
