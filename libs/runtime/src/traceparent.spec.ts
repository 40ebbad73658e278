import { describe, expect, it } from '@jest/globals';
import { createInMemoryBus, Topics } from '@orchestron/bus';
import type { DeliveredMessage } from '@orchestron/bus';
import { createInMemoryEventStore } from '@orchestron/event-store';
import { createWorker } from '@orchestron/worker-sdk';
import { traceparentFor } from './dispatch-messages.ts';
import { Engine } from './engine.ts';

const W3C = /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/;

describe('trace context on the bus', () => {
  it("dispatches carry a W3C traceparent whose trace id is the run's, and workers send it back on their reports", async () => {
    const bus = createInMemoryBus();
    const engine = new Engine({ store: createInMemoryEventStore(), bus });
    const seen: DeliveredMessage[] = [];
    await bus.subscribe({ topics: [Topics.commands('w'), Topics.stepEvents], group: 'spy' }, async (m) => {
      seen.push(m);
    });
    // step.started at once, so each attempt sends two reports back (a quick one would send only its outcome).
    const worker = createWorker({ name: 'w', bus, reportStartedAfterMs: 0, handlers: { execute: async () => ({}) } });
    await worker.start();
    await engine.start();
    await engine.definitions.register(
      { id: 'two', version: 1, steps: { a: { worker: 'w' }, b: { worker: 'w', needs: ['a'] } } },
      'test',
    );
    const { run } = await engine.startRun({ definitionId: 'two', input: {}, actor: 'test' });
    for (let i = 0; i < 200 && (await engine.getRun(run.runId))?.status !== 'completed'; i++)
      await new Promise((r) => setTimeout(r, 5));
    await worker.stop();
    await engine.stop();

    const traceIds = new Set(seen.map((m) => m.headers?.traceparent?.split('-')[1]));
    expect(seen.length).toBeGreaterThanOrEqual(6); // two commands, and started + completed for each
    for (const m of seen) expect(m.headers?.traceparent).toMatch(W3C);
    expect([...traceIds]).toEqual([traceparentFor(run.runId, 'x').split('-')[1]]);
    const commands = seen.filter((m) => m.topic === Topics.commands('w'));
    expect(new Set(commands.map((m) => m.headers?.traceparent)).size).toBe(2);
  });
});
