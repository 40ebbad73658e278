import { afterEach, describe, expect, it } from '@jest/globals';
import type { DeliveredMessage, MessageBus } from '../bus.ts';

/**
 * The behaviour every MessageBus adapter must show, run against the in-process bus in unit tests and against
 * Kafka in integration tests (STYLE.md principle 7: one suite per port, exported from the port lib).
 */
export interface BusUnderTest {
  readonly bus: MessageBus;
  /** Where this bus sends messages whose handler threw. */
  readonly deadLetterTopic: string;
}

export interface MessageBusConformanceOptions {
  /** A topic or group name no earlier run used (a broker keeps topics and offsets between runs). */
  readonly unique: (name: string) => string;
  /** Per test; a real broker needs seconds for group joins. */
  readonly timeoutMs?: number;
  /** How long to watch for a message that must not come. */
  readonly quietMs?: number;
}

/** Collects handled messages; `until(n)` resolves once n arrived, or fails naming what did. */
export interface Inbox {
  readonly messages: DeliveredMessage[];
  readonly handler: (message: DeliveredMessage) => Promise<void>;
  until(count: number, withinMs?: number): Promise<DeliveredMessage[]>;
}

export function createInbox(react?: (message: DeliveredMessage) => Promise<void> | void): Inbox {
  const messages: DeliveredMessage[] = [];
  const waiters = new Set<() => void>();
  return {
    messages,
    async handler(message) {
      await react?.(message);
      messages.push(message);
      for (const wake of waiters) wake();
    },
    until(count, withinMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (messages.length < count) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(messages.slice());
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(
              `expected ${count} message(s) within ${withinMs} ms, got ${messages.length}: ${JSON.stringify(messages.map((m) => [m.key, m.value]))}`,
            ),
          );
        }, withinMs);
        waiters.add(check);
        check();
      });
    },
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The original value of a dead letter: the in-process bus keeps it decoded, Kafka keeps the bytes in base64. */
export function originalOf(letter: unknown): unknown {
  const record = letter as { original?: unknown; originalEncoding?: unknown };
  if (record.originalEncoding === 'base64' && typeof record.original === 'string')
    return JSON.parse(Buffer.from(record.original, 'base64').toString('utf8'));
  return record.original;
}

export function describeMessageBusConformance(
  name: string,
  factory: () => Promise<BusUnderTest>,
  options: MessageBusConformanceOptions,
): void {
  const timeout = options.timeoutMs ?? 30_000;
  const quietMs = options.quietMs ?? 300;

  describe(`${name} conforms to the MessageBus port`, () => {
    const opened: MessageBus[] = [];
    const open = async (): Promise<BusUnderTest> => {
      const underTest = await factory();
      opened.push(underTest.bus);
      return underTest;
    };

    afterEach(async () => {
      await Promise.allSettled(opened.splice(0).map((bus) => bus.close()));
    });

    it(
      'delivers a published message with its key, value and headers intact',
      async () => {
        const { bus } = await open();
        const topic = options.unique('round-trip');
        const inbox = createInbox();
        await bus.subscribe({ topics: [topic], group: options.unique('g') }, inbox.handler);
        const value = {
          type: 'step.completed',
          runId: 'run-1',
          output: { list: [1, 'two', null, { deep: true }], unicode: 'é → ✓' },
        };
        const headers = {
          traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
          'x-orchestron-actor': 'alice',
        };
        await bus.publish(topic, [{ key: 'run-1', value, headers }]);
        const [message] = await inbox.until(1);
        expect(message).toMatchObject({ topic, key: 'run-1', value, headers });
        expect(Number.isInteger(message?.partition)).toBe(true);
        expect(Number.isInteger(message?.offset)).toBe(true);
      },
      timeout,
    );

    it(
      'ensures topics ahead, idempotently, and they then carry messages',
      async () => {
        const { bus } = await open();
        const [first, second] = [options.unique('ahead'), options.unique('ahead')];
        await bus.ensureTopics([first, second, first]);
        await bus.ensureTopics([first]);
        await bus.ensureTopics([]);
        const inbox = createInbox();
        await bus.subscribe({ topics: [first, second], group: options.unique('g') }, inbox.handler);
        await bus.publish(second, [{ key: 'k', value: { n: 2 } }]);
        await bus.publish(first, [{ key: 'k', value: { n: 1 } }]);
        const got = await inbox.until(2);
        const byN = (m: DeliveredMessage): number => (m.value as { n: number }).n;
        expect([...got].sort((a, b) => byN(a) - byN(b)).map((m) => [m.topic, m.value])).toEqual([
          [first, { n: 1 }],
          [second, { n: 2 }],
        ]);
      },
      timeout,
    );

    it(
      'keeps the order of each key across 200 messages at concurrency 1',
      async () => {
        const { bus } = await open();
        const topic = options.unique('order');
        const inbox = createInbox();
        await bus.subscribe({ topics: [topic], group: options.unique('g'), concurrency: 1 }, inbox.handler);
        const keys = ['run-a', 'run-b', 'run-c', 'run-d', 'run-e'];
        const sent = Array.from({ length: 200 }, (_, i) => ({
          key: keys[i % keys.length] as string,
          value: { seq: Math.floor(i / keys.length) },
        }));
        for (let i = 0; i < sent.length; i += 20) await bus.publish(topic, sent.slice(i, i + 20));
        const received = await inbox.until(200);
        for (const key of keys) {
          const seqs = received.filter((m) => m.key === key).map((m) => (m.value as { seq: number }).seq);
          expect(seqs).toEqual(Array.from({ length: 40 }, (_, i) => i));
        }
      },
      timeout,
    );

    it(
      'splits the work of a group between its members and hands each message to one of them',
      async () => {
        const { bus } = await open();
        const topic = options.unique('group');
        const group = options.unique('g');
        const first = createInbox();
        const second = createInbox();
        await bus.subscribe({ topics: [topic], group, concurrency: 4 }, first.handler);
        await bus.subscribe({ topics: [topic], group, concurrency: 4 }, second.handler);
        await sleep(quietMs); // the first member learns of the second at its next heartbeat
        const sent = Array.from({ length: 120 }, (_, i) => ({ key: `run-${i % 60}`, value: { id: i } }));
        await bus.publish(topic, sent);
        await waitFor(
          () => first.messages.length + second.messages.length >= sent.length,
          30_000,
          () => `${first.messages.length} + ${second.messages.length} of ${sent.length}`,
        );
        await sleep(quietMs);
        const ids = [...first.messages, ...second.messages]
          .map((m) => (m.value as { id: number }).id)
          .sort((a, b) => a - b);
        expect(ids).toEqual(sent.map((_, i) => i));
        expect(first.messages.length).toBeGreaterThan(0);
        expect(second.messages.length).toBeGreaterThan(0);
      },
      timeout,
    );

    it(
      'tells each member of a group which partitions it owns, and delivers each key on the partition partitionOf names',
      async () => {
        const { bus } = await open();
        const topic = options.unique('owned');
        const group = options.unique('g');
        const assignments: { first: number[] | null; second: number[] | null } = { first: null, second: null };
        const first = createInbox();
        const second = createInbox();
        await bus.subscribe(
          {
            topics: [topic],
            group,
            concurrency: 4,
            onAssigned: (ps) => {
              assignments.first = ps.filter((p) => p.topic === topic).map((p) => p.partition);
            },
          },
          first.handler,
        );
        await bus.subscribe(
          {
            topics: [topic],
            group,
            concurrency: 4,
            onAssigned: (ps) => {
              assignments.second = ps.filter((p) => p.topic === topic).map((p) => p.partition);
            },
          },
          second.handler,
        );
        await waitFor(
          () =>
            (assignments.first?.length ?? 0) > 0 &&
            (assignments.second?.length ?? 0) > 0 &&
            (assignments.first?.length ?? 0) + (assignments.second?.length ?? 0) >= 2 &&
            !assignments.first?.some((p) => assignments.second?.includes(p)),
          30_000,
          () => JSON.stringify(assignments),
        );
        const sent = Array.from({ length: 60 }, (_, i) => ({ key: `run-${i}`, value: { id: i } }));
        await bus.publish(topic, sent);
        await waitFor(
          () => first.messages.length + second.messages.length >= sent.length,
          30_000,
          () => `${first.messages.length} + ${second.messages.length} of ${sent.length}`,
        );
        for (const message of first.messages) {
          expect(message.partition).toBe(bus.partitionOf(topic, message.key));
          expect(assignments.first).toContain(message.partition);
        }
        for (const message of second.messages) {
          expect(message.partition).toBe(bus.partitionOf(topic, message.key));
          expect(assignments.second).toContain(message.partition);
        }
      },
      timeout,
    );

    it(
      'dead-letters a message whose handler throws, with the reason and where it came from, and goes on',
      async () => {
        const { bus, deadLetterTopic } = await open();
        const topic = options.unique('failing');
        const letters = createInbox();
        const errors: Array<{ error: unknown; message: DeliveredMessage }> = [];
        await bus.subscribe({ topics: [deadLetterTopic], group: options.unique('dlq-watch') }, async (message) => {
          if ((message.value as { topic?: unknown }).topic === topic) await letters.handler(message);
        });
        const inbox = createInbox((message) => {
          if ((message.value as { n: number }).n === 3) throw new Error('cannot handle n=3');
        });
        await bus.subscribe(
          { topics: [topic], group: options.unique('g'), onError: (error, message) => errors.push({ error, message }) },
          inbox.handler,
        );
        await bus.publish(
          topic,
          [1, 2, 3, 4, 5].map((n) => ({
            key: 'run-x',
            value: { n },
            headers: { traceparent: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01` },
          })),
        );
        const handled = await inbox.until(4);
        expect(handled.map((m) => (m.value as { n: number }).n)).toEqual([1, 2, 4, 5]);
        const [letter] = await letters.until(1);
        const failed = errors[0]?.message;
        expect(errors).toHaveLength(1);
        expect(String(errors[0]?.error)).toContain('cannot handle n=3');
        expect(letter?.key).toBe('run-x');
        expect(letter?.headers).toMatchObject({ traceparent: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01` });
        expect(letter?.value).toMatchObject({ topic, partition: failed?.partition, offset: failed?.offset });
        expect((letter?.value as { reason: string }).reason).toContain('cannot handle n=3');
        expect(originalOf(letter?.value)).toEqual({ n: 3 });
      },
      timeout,
    );
  });
}

export async function waitFor(condition: () => boolean, withinMs: number, describeState: () => string): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${withinMs} ms: ${describeState()}`);
    await sleep(20);
  }
}
