import 'reflect-metadata';
import { afterEach, describe, expect, it } from '@jest/globals';
import { Controller, Inject, Module } from '@nestjs/common';
import type { INestMicroservice } from '@nestjs/common';
import { Ctx, EventPattern, MessagePattern, Payload } from '@nestjs/microservices';
import { defer, of, throwError } from 'rxjs';
import type { Observable } from 'rxjs';
import { createInMemoryBus, Topics } from '@orchestron/bus';
import type { DeliveredMessage, MessageBus } from '@orchestron/bus';
import { BusContext, BusTransport, createBusMicroservice } from './index.ts';

const ORDERS = 'test.orders';
const REFUNDS = 'test.refunds';
const AUDIT = 'test.audit';
const RECORDER = Symbol('RECORDER');

interface Received {
  readonly handler: string;
  readonly message: DeliveredMessage;
  readonly context: unknown;
}

/** Collects what the controller's handlers saw, and lets a test wait for a count. */
class Recorder {
  readonly received: Received[] = [];
  push(entry: Received): void {
    this.received.push(entry);
  }
  async until(count: number, withinMs = 5_000): Promise<Received[]> {
    await waitUntil(
      () => this.received.length >= count,
      withinMs,
      () => `${this.received.length} of ${count} received`,
    );
    return this.received;
  }
}

class OrdersController {
  readonly recorder: Recorder;
  constructor(recorder: Recorder) {
    this.recorder = recorder;
  }
  onOrder(message: DeliveredMessage, context: unknown): void {
    if ((message.value as { fail?: boolean }).fail) throw new Error(`cannot take order ${message.key}`);
    this.recorder.push({ handler: 'order', message, context });
  }
  async onRefund(message: DeliveredMessage): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 5));
    if ((message.value as { fail?: boolean }).fail) throw new Error(`cannot refund ${message.key}`);
    this.recorder.push({ handler: 'refund', message, context: undefined });
  }
  onAudit(message: DeliveredMessage): Observable<number> {
    if ((message.value as { fail?: boolean }).fail)
      return throwError(() => new Error(`audit stream failed for ${message.key}`));
    return defer(() => {
      this.recorder.push({ handler: 'audit', message, context: undefined });
      return of(1, 2);
    });
  }
}
Reflect.decorate([Controller()], OrdersController);
Inject(RECORDER)(OrdersController, undefined, 0);
decorateMethod(OrdersController, 'onOrder', EventPattern<string>(ORDERS));
// Nest passes only the payload unless the method asks for the context too.
Payload()(OrdersController.prototype, 'onOrder', 0);
Ctx()(OrdersController.prototype, 'onOrder', 1);
decorateMethod(OrdersController, 'onRefund', EventPattern<string>(REFUNDS));
decorateMethod(OrdersController, 'onAudit', EventPattern<string>(AUDIT));

class RequestReplyController {
  ask(): string {
    return 'answer';
  }
}
Reflect.decorate([Controller()], RequestReplyController);
decorateMethod(RequestReplyController, 'ask', MessagePattern('test.ask'));

function decorateMethod(target: { prototype: object }, name: string, decorator: MethodDecorator): void {
  Reflect.decorate([decorator], target.prototype, name, Object.getOwnPropertyDescriptor(target.prototype, name));
}

function moduleWith(
  recorder: Recorder,
  controllers: Array<new (...args: never[]) => unknown> = [OrdersController],
): new () => unknown {
  class TestModule {}
  Module({ controllers, providers: [{ provide: RECORDER, useValue: recorder }] })(TestModule);
  return TestModule;
}

const started: INestMicroservice[] = [];
afterEach(async () => {
  await Promise.allSettled(started.splice(0).map((app) => app.close()));
});

async function start(
  bus: MessageBus,
  options: {
    onError?: (error: unknown, message: DeliveredMessage) => void;
    controllers?: Array<new (...args: never[]) => unknown>;
  } = {},
): Promise<{ app: INestMicroservice; recorder: Recorder }> {
  const recorder = new Recorder();
  const transport = new BusTransport({ bus, group: 'test-group', onError: options.onError });
  const app = await createBusMicroservice(moduleWith(recorder, options.controllers), transport);
  started.push(app);
  await app.listen();
  return { app, recorder };
}

function collect(bus: MessageBus, topic: string, group: string): Promise<DeliveredMessage[]> {
  const messages: DeliveredMessage[] = [];
  return bus
    .subscribe({ topics: [topic], group }, async (message) => {
      messages.push(message);
    })
    .then(() => messages);
}

describe('BusTransport', () => {
  it('delivers each message to the handler of its topic, with key, headers, partition, offset and a BusContext', async () => {
    // Given a microservice with handlers for orders and refunds
    const bus = createInMemoryBus();
    const { recorder } = await start(bus);
    // When one message is published to each topic
    await bus.publish(ORDERS, [
      { key: 'run-1', value: { amount: 10 }, headers: { traceparent: '00-abc-01', 'x-orchestron-actor': 'alice' } },
    ]);
    await bus.publish(REFUNDS, [{ key: 'run-2', value: { amount: 3 } }]);
    // Then each reaches its own handler, as the delivered message
    const received = await recorder.until(2);
    const order = received.find((r) => r.handler === 'order');
    const refund = received.find((r) => r.handler === 'refund');
    expect(order?.message).toEqual({
      topic: ORDERS,
      key: 'run-1',
      value: { amount: 10 },
      headers: { traceparent: '00-abc-01', 'x-orchestron-actor': 'alice' },
      partition: bus.partitionOf(ORDERS, 'run-1'),
      offset: 0,
    });
    expect(refund?.message).toMatchObject({ topic: REFUNDS, key: 'run-2', value: { amount: 3 } });
    expect(order?.context).toBeInstanceOf(BusContext);
    expect((order?.context as BusContext).getMessage()).toBe(order?.message);
  });

  it('routes two topics separately: each handler sees only its own messages', async () => {
    const bus = createInMemoryBus();
    const { recorder } = await start(bus);
    await bus.publish(
      ORDERS,
      [1, 2, 3].map((n) => ({ key: `run-${n}`, value: { n } })),
    );
    await bus.publish(
      AUDIT,
      [4, 5].map((n) => ({ key: `run-${n}`, value: { n } })),
    );
    const received = await recorder.until(5);
    const seen = (handler: string): number[] =>
      received
        .filter((r) => r.handler === handler)
        .map((r) => (r.message.value as { n: number }).n)
        .sort();
    expect(seen('order')).toEqual([1, 2, 3]);
    expect(seen('audit')).toEqual([4, 5]);
    expect(received.filter((r) => r.handler === 'order').every((r) => r.message.topic === ORDERS)).toBe(true);
    expect(received.filter((r) => r.handler === 'audit').every((r) => r.message.topic === AUDIT)).toBe(true);
  });

  it('dead-letters the message of a handler that throws, rejects or errors its Observable, with the original error', async () => {
    // Given a dead-letter watcher and a microservice reporting errors
    const bus = createInMemoryBus();
    const letters = await collect(bus, Topics.deadLetters, 'dlq-watch');
    const errors: Array<{ error: unknown; message: DeliveredMessage }> = [];
    const { recorder } = await start(bus, { onError: (error, message) => errors.push({ error, message }) });
    // When each kind of handler fails on one message, and succeeds on the next
    await bus.publish(ORDERS, [
      { key: 'run-sync', value: { fail: true }, headers: { traceparent: '00-dead-01' } },
      { key: 'run-ok-1', value: {} },
    ]);
    await bus.publish(REFUNDS, [
      { key: 'run-async', value: { fail: true } },
      { key: 'run-ok-2', value: {} },
    ]);
    await bus.publish(AUDIT, [
      { key: 'run-stream', value: { fail: true } },
      { key: 'run-ok-3', value: {} },
    ]);
    // Then the failed ones land on the dead-letter topic with the handler's own message as the reason
    await waitUntil(
      () => letters.length >= 3,
      5_000,
      () => `${letters.length} dead letters`,
    );
    const reasonOf = (key: string): string =>
      (letters.find((l) => l.key === key)?.value as { reason: string } | undefined)?.reason ?? 'none';
    expect(reasonOf('run-sync')).toBe('Error: cannot take order run-sync');
    expect(reasonOf('run-async')).toBe('Error: cannot refund run-async');
    expect(reasonOf('run-stream')).toBe('Error: audit stream failed for run-stream');
    expect(letters.find((l) => l.key === 'run-sync')?.value).toMatchObject({ topic: ORDERS, original: { fail: true } });
    expect(letters.find((l) => l.key === 'run-sync')?.headers).toEqual({ traceparent: '00-dead-01' });
    // And onError saw each failure, while the messages after them were handled
    expect(errors.map((e) => e.message.key).sort()).toEqual(['run-async', 'run-stream', 'run-sync']);
    expect(errors.every((e) => e.error instanceof Error)).toBe(true);
    const handled = await recorder.until(3);
    expect(handled.map((r) => r.message.key).sort()).toEqual(['run-ok-1', 'run-ok-2', 'run-ok-3']);
  });

  it('stops delivering once closed, and leaves the bus open for others', async () => {
    // Given a running microservice that has handled one message
    const bus = createInMemoryBus();
    const { app, recorder } = await start(bus);
    await bus.publish(ORDERS, [{ key: 'run-before', value: {} }]);
    await recorder.until(1);
    // When it is closed and another message is published
    await app.close();
    const probe = await collect(bus, ORDERS, 'probe');
    await bus.publish(ORDERS, [{ key: 'run-after', value: {} }]);
    // Then another group still receives it (the bus is open), and the closed handler never does
    // (the in-memory bus picks a message's receivers when it is published, so once the probe has it, no one else will)
    await waitUntil(
      () => probe.length === 1,
      5_000,
      () => `${probe.length} probed`,
    );
    expect(recorder.received.map((r) => r.message.key)).toEqual(['run-before']);
  });

  it('refuses to listen with a MessagePattern handler, naming it', async () => {
    const bus = createInMemoryBus();
    await expect(start(bus, { controllers: [RequestReplyController] })).rejects.toThrow(
      'BusTransport (group test-group) handles events only, but test.ask is a MessagePattern: use EventPattern',
    );
  });

  it('passes a failed subscription to the listen callback', async () => {
    const bus = createInMemoryBus();
    const broken: MessageBus = { ...bus, subscribe: async () => Promise.reject(new Error('broker unreachable')) };
    await expect(start(broken)).rejects.toThrow('broker unreachable');
  });
});

async function waitUntil(condition: () => boolean, withinMs: number, state: () => string): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not within ${withinMs} ms: ${state()}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
