import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from '@jest/globals';
import { createInMemoryBus, Topics } from '@orchestron/bus';
import type { StepCommandMessage, StepEventMessage } from '@orchestron/bus';
import { createWorker, TerminalError } from './index.ts';
import type { StepHandler, Worker } from './index.ts';
import { UsageMeter } from './usage.ts';

const workers: Worker[] = [];
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.stop()));
});

/** Runs one attempt of `handler` (twice with `redeliver`) and answers its outcome reports. */
async function outcomes(handler: StepHandler, redeliver = false): Promise<StepEventMessage[]> {
  const bus = createInMemoryBus();
  const events: StepEventMessage[] = [];
  await bus.subscribe({ topics: [Topics.stepEvents], group: 'spy' }, async (m) => {
    const event = m.value as StepEventMessage;
    if (event.type === 'step.completed' || event.type === 'step.failed') events.push(event);
  });
  const worker = createWorker({ name: 'llm', bus, handlers: { execute: handler } });
  workers.push(worker);
  await worker.start();
  const command: StepCommandMessage = {
    type: 'step.execute',
    runId: 'run-1',
    stepId: 'draft',
    attempt: 1,
    worker: 'llm',
    action: null,
    input: {},
    idempotencyKey: 'run-1/draft/1',
    deadline: null,
    heartbeatIntervalMs: null,
    definitionId: 'def',
  };
  const send = () => bus.publish(Topics.commands('llm'), [{ key: 'run-1', value: command }]);
  await send();
  for (let i = 0; i < 400 && events.length < 1; i++) await sleep(5);
  if (redeliver) {
    await send();
    for (let i = 0; i < 400 && events.length < 2; i++) await sleep(5);
  }
  return events;
}

const call = (inputTokens: number, outputTokens: number, amount: number) => ({
  model: 'stand-in-1',
  inputTokens,
  outputTokens,
  cost: { amount, currency: 'USD' },
});

describe('ctx.reportUsage', () => {
  it('sums the calls of an attempt and sends them with its outcome, and the same again on a redelivery', async () => {
    const events = await outcomes(async (ctx) => {
      ctx.reportUsage(call(100, 20, 0.1));
      ctx.reportUsage({ ...call(50, 10, 0.2), model: 'stand-in-2' });
      return { text: 'draft' };
    }, true);
    const usage = {
      model: 'stand-in-1+stand-in-2',
      inputTokens: 150,
      outputTokens: 30,
      cost: { amount: 0.3, currency: 'USD' },
    };
    expect(events).toEqual([
      expect.objectContaining({ type: 'step.completed', output: { text: 'draft' }, usage }),
      expect.objectContaining({ type: 'step.completed', output: { text: 'draft' }, usage }),
    ]);
  });

  it('sends usage with a failure too: a model call that failed the step was still paid for', async () => {
    const events = await outcomes(async (ctx) => {
      ctx.reportUsage(call(10, 0, 0.01));
      throw new TerminalError('refused by the model', 'LLM.REFUSED');
    });
    expect(events[0]).toMatchObject({ type: 'step.failed', error: { code: 'LLM.REFUSED' }, usage: call(10, 0, 0.01) });
  });

  it('sends no usage field when the handler reported none', async () => {
    const [event] = await outcomes(async () => 'ok');
    expect(event).not.toHaveProperty('usage');
  });

  it('throws at the call that reports a bad field, naming it', () => {
    const meter = new UsageMeter();
    expect(() => meter.add({ inputTokens: -1, outputTokens: 0 })).toThrow(/\/inputTokens must be >= 0/);
    expect(() => meter.add({ inputTokens: 1.5, outputTokens: 0 })).toThrow(/\/inputTokens must be integer/);
    expect(() => meter.add({ inputTokens: 1, outputTokens: 1, cost: { amount: 1, currency: 'usd' } })).toThrow(
      /\/cost\/currency must match pattern/,
    );
    expect(() => meter.add({ inputTokens: 1, outputTokens: 1, extra: 1 } as never)).toThrow(/additional properties/);
    meter.add(call(1, 1, 1));
    expect(() => meter.add({ ...call(1, 1, 1), cost: { amount: 1, currency: 'EUR' } })).toThrow(
      /cost.currency EUR differs from USD/,
    );
    expect(meter.total).toEqual(call(1, 1, 1));
  });
});
