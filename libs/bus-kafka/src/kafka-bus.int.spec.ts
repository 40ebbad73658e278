import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import { Admin, Producer } from '@platformatic/kafka';
import { topicNames } from '@orchestron/bus';
import type { DeliveredMessage } from '@orchestron/bus';
import { createKafkaBus, KafkaBusError } from './index.ts';
import type { KafkaBus, KafkaBusOptions } from './index.ts';
import { createInbox, describeMessageBusConformance, sleep, waitFor } from '@orchestron/bus/testing';
import { useKafkaBroker } from './testing/index.ts';

// Against a real broker: started here when 127.0.0.1:9092 does not answer; if it cannot be, every test fails.
const BROKERS = (process.env['ORCHESTRON_KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(',');
const RUN = randomUUID().slice(0, 8);
const unique = (name: string): string => `orchestron.test.${RUN}.${name}.${randomUUID().slice(0, 6)}`;
const DLQ = unique('dlq');
const TEST_TIMEOUT = 60_000;

const needBroker = useKafkaBroker(BROKERS);

const opened: KafkaBus[] = [];
function openBus(options: Partial<KafkaBusOptions> = {}): KafkaBus {
  needBroker();
  const bus = createKafkaBus({
    brokers: BROKERS,
    clientId: `orchestron-test-${RUN}`,
    partitions: 3,
    dlqTopic: DLQ,
    shutdownTimeoutMs: 2_000,
    ...options,
  });
  opened.push(bus);
  return bus;
}

afterEach(async () => {
  await Promise.allSettled(opened.splice(0).map((bus) => bus.close()));
});

describeMessageBusConformance('kafka bus', async () => ({ bus: openBus(), deadLetterTopic: DLQ }), {
  unique,
  timeoutMs: TEST_TIMEOUT,
  quietMs: 1_500,
});

describe('kafka bus', () => {
  let raw: Producer | undefined;
  let admin: Admin | undefined;
  afterAll(async () => {
    await raw?.close();
    await admin?.close();
  });

  it(
    'keeps two deployments with different ORCHESTRON_TOPIC_PREFIX apart on one broker: same services, no crossed messages',
    async () => {
      // The names each deployment's processes derive from their prefix, as Topics does from the environment.
      const [a, b] = [topicNames(`t${RUN}-a.`), topicNames(`t${RUN}-b.`)];
      const inboxes = [createInbox(), createInbox()] as const;
      const deployments = [a, b].map((names, i) => ({
        names,
        bus: openBus({ dlqTopic: names.deadLetters }),
        inbox: inboxes[i] as ReturnType<typeof createInbox>,
      }));
      for (const { names, bus, inbox } of deployments) {
        await bus.ensureTopics([names.stepEvents, names.deadLetters]);
        // The same service, the same group name: only the prefix tells the two groups apart.
        await bus.subscribe(
          { topics: [names.stepEvents], group: names.group('orchestron-orchestrator') },
          inbox.handler,
        );
      }
      for (const { names, bus } of deployments) {
        await bus.publish(
          names.stepEvents,
          Array.from({ length: 6 }, (_, i) => ({ key: `run-${i}`, value: { from: names.prefix, i } })),
        );
      }
      await waitFor(
        () => inboxes.every((inbox) => inbox.messages.length >= 6),
        TEST_TIMEOUT - 10_000,
        () => inboxes.map((inbox) => inbox.messages.length).join(' / '),
      );
      await sleep(1_000);
      for (const [i, { names, inbox }] of deployments.entries()) {
        expect({
          deployment: i,
          from: [...new Set(inbox.messages.map((m) => (m.value as { from: string }).from))],
          count: inbox.messages.length,
        }).toEqual({ deployment: i, from: [names.prefix], count: 6 });
        expect(inbox.messages.every((m) => m.topic === names.stepEvents)).toBe(true);
      }
    },
    TEST_TIMEOUT,
  );

  it(
    'creates its topics with the configured partition counts, and creating them again is a no-op',
    async () => {
      const fixed = unique('five');
      const bus = openBus({ partitions: { [fixed]: 5 } });
      const other = unique('default');
      await bus.ensureTopics([fixed, other]);
      await bus.ensureTopics([fixed]);
      await openBus({ partitions: 1 }).ensureTopics([fixed]);
      admin ??= new Admin({ clientId: 'orchestron-test-admin', bootstrapBrokers: BROKERS });
      const metadata = await admin.metadata({ topics: [fixed, other], forceUpdate: true });
      expect(metadata.topics.get(fixed)?.partitionsCount).toBe(5);
      expect(metadata.topics.get(other)?.partitionsCount).toBe(8);
    },
    TEST_TIMEOUT,
  );

  it(
    'dead-letters a value that is not JSON with its original bytes, and goes on',
    async () => {
      const bus = openBus();
      const topic = unique('raw');
      const letters = createInbox();
      await bus.subscribe({ topics: [DLQ], group: unique('dlq-watch') }, async (message) => {
        if ((message.value as { topic?: unknown }).topic === topic) await letters.handler(message);
      });
      const errors: unknown[] = [];
      const inbox = createInbox();
      await bus.subscribe(
        { topics: [topic], group: unique('g'), onError: (error) => errors.push(error) },
        inbox.handler,
      );
      raw ??= new Producer({ clientId: 'orchestron-test-raw', bootstrapBrokers: BROKERS });
      const garbage = Buffer.from([0x7b, 0x6e, 0x6f, 0x74, 0x20, 0x6a, 0x73, 0x6f, 0x6e, 0xff, 0xfe]);
      // Same partition as the bus's own publish below, so the letter's offset sits just before the good message.
      await raw.send({
        messages: [
          {
            topic,
            partition: bus.partitionOf(topic, 'run-raw'),
            key: Buffer.from('run-raw'),
            value: garbage,
            headers: new Map([[Buffer.from('traceparent'), Buffer.from('00-raw-01')]]),
          },
        ],
      });
      await bus.publish(topic, [{ key: 'run-raw', value: { after: true } }]);

      const [handled] = await inbox.until(1);
      expect(handled?.value).toEqual({ after: true });
      const [letter] = await letters.until(1);
      const value = letter?.value as {
        reason: string;
        topic: string;
        partition: number;
        offset: number;
        original: string;
        originalEncoding: string;
        headers: Record<string, string>;
      };
      expect(value.reason).toMatch(/WireFormatError: .* is not JSON/);
      expect(value.topic).toBe(topic);
      expect(value.offset).toBe((handled?.offset ?? 0) - 1);
      expect(value.partition).toBe(handled?.partition);
      expect(Buffer.from(value.original, 'base64')).toEqual(garbage);
      expect(value.originalEncoding).toBe('base64');
      expect(value.headers).toEqual({ traceparent: '00-raw-01' });
      expect(letter?.headers).toEqual({ traceparent: '00-raw-01' });
      expect(errors).toHaveLength(1);
    },
    TEST_TIMEOUT,
  );

  it(
    'resumes a group after its last committed offset: handled messages are not delivered again, an unfinished one is',
    async () => {
      const topic = unique('resume');
      const group = unique('g');
      const first = openBus({ partitions: 1, shutdownTimeoutMs: 500 });
      const handled: number[] = [];
      let startedSeven = false;
      await first.subscribe({ topics: [topic], group }, async (message) => {
        const n = (message.value as { n: number }).n;
        if (n === 7) {
          startedSeven = true;
          await new Promise(() => undefined); // never finishes: a process that dies mid-message
        }
        handled.push(n);
      });
      await first.publish(
        topic,
        Array.from({ length: 10 }, (_, i) => ({ key: `run-${i % 3}`, value: { n: i + 1 } })),
      );
      await waitFor(
        () => startedSeven && handled.length === 6,
        30_000,
        () => `handled ${JSON.stringify(handled)}, 7 started: ${startedSeven}`,
      );
      await first.close();

      const second = openBus({ partitions: 1 });
      const again = createInbox();
      await second.subscribe({ topics: [topic], group }, again.handler);
      await again.until(4);
      await sleep(1_500);
      expect(handled).toEqual([1, 2, 3, 4, 5, 6]);
      expect(again.messages.map((m) => (m.value as { n: number }).n)).toEqual([7, 8, 9, 10]);
    },
    TEST_TIMEOUT,
  );

  it(
    'commits a partition only up to its first unfinished message when handlers run at once',
    async () => {
      const topic = unique('watermark');
      const group = unique('g');
      const first = openBus({ partitions: 1, shutdownTimeoutMs: 500 });
      const done: string[] = [];
      await first.subscribe({ topics: [topic], group, concurrency: 4 }, async (message) => {
        if (message.key === 'slow') await new Promise(() => undefined);
        done.push(`${message.key}:${(message.value as { n: number }).n}`);
      });
      await first.publish(topic, [
        { key: 'fast', value: { n: 0 } },
        { key: 'slow', value: { n: 1 } },
        { key: 'fast', value: { n: 2 } },
        { key: 'fast', value: { n: 3 } },
      ]);
      await waitFor(
        () => done.length === 3,
        30_000,
        () => JSON.stringify(done),
      );
      await first.close();

      const second = openBus({ partitions: 1 });
      const again = createInbox();
      await second.subscribe({ topics: [topic], group, concurrency: 4 }, again.handler);
      await again.until(3);
      await sleep(1_500);
      // fast:2 and fast:3 finished, but behind the unfinished slow:1, so they come again with it (at least once).
      expect(done).toEqual(['fast:0', 'fast:2', 'fast:3']);
      expect(again.messages.map((m) => `${m.key}:${(m.value as { n: number }).n}`).sort()).toEqual([
        'fast:2',
        'fast:3',
        'slow:1',
      ]);
    },
    TEST_TIMEOUT,
  );

  it(
    'runs different keys at once above concurrency 1, but never two messages of one key',
    async () => {
      const bus = openBus({ partitions: 1 });
      const topic = unique('keys');
      const running = new Map<string, number>();
      let overlapSameKey = 0;
      let maxAtOnce = 0;
      let atOnce = 0;
      const order = new Map<string, number[]>();
      const inbox = createInbox(async (message: DeliveredMessage) => {
        const now = (running.get(message.key) ?? 0) + 1;
        running.set(message.key, now);
        if (now > 1) overlapSameKey++;
        maxAtOnce = Math.max(maxAtOnce, ++atOnce);
        await sleep(5);
        order.set(message.key, [...(order.get(message.key) ?? []), (message.value as { seq: number }).seq]);
        atOnce--;
        running.set(message.key, now - 1);
      });
      await bus.subscribe({ topics: [topic], group: unique('g'), concurrency: 8 }, inbox.handler);
      await bus.publish(
        topic,
        Array.from({ length: 160 }, (_, i) => ({ key: `run-${i % 8}`, value: { seq: Math.floor(i / 8) } })),
      );
      await inbox.until(160);
      expect(overlapSameKey).toBe(0);
      expect(maxAtOnce).toBeGreaterThan(1);
      for (const seqs of order.values()) expect(seqs).toEqual(Array.from({ length: 20 }, (_, i) => i));
    },
    TEST_TIMEOUT,
  );

  it(
    "with orderByKey false, runs one key's messages side by side, and commits past all of them",
    async () => {
      const bus = openBus({ partitions: 1 });
      const topic = unique('unordered');
      const group = unique('g');
      let atOnce = 0;
      let maxAtOnce = 0;
      const inbox = createInbox(async () => {
        maxAtOnce = Math.max(maxAtOnce, ++atOnce);
        await sleep(20);
        atOnce--;
      });
      const subscription = await bus.subscribe(
        { topics: [topic], group, concurrency: 8, orderByKey: false },
        inbox.handler,
      );
      await bus.publish(
        topic,
        Array.from({ length: 40 }, (_, i) => ({ key: 'run-1', value: { seq: i } })),
      );
      await inbox.until(40);
      expect(maxAtOnce).toBeGreaterThan(1);
      await subscription.close();
      // A new member of the group starts after the last one: every offset was committed, none is delivered again.
      const again = createInbox(async () => undefined);
      await bus.subscribe({ topics: [topic], group, concurrency: 8, orderByKey: false }, again.handler);
      await bus.publish(topic, [{ key: 'run-1', value: { seq: 40 } }]);
      await again.until(1);
      await sleep(500);
      expect(again.messages.map((m) => (m.value as { seq: number }).seq)).toEqual([40]);
    },
    TEST_TIMEOUT,
  );

  it(
    "with unorderedTopics, runs one key's messages of those topics side by side and keeps the other topics in order",
    async () => {
      const bus = openBus({ partitions: 1 });
      const reports = unique('reports');
      const commands = unique('commands');
      const atOnce = new Map<string, number>();
      const maxAtOnce = new Map<string, number>();
      const inbox = createInbox(async (message) => {
        const now = (atOnce.get(message.topic) ?? 0) + 1;
        atOnce.set(message.topic, now);
        maxAtOnce.set(message.topic, Math.max(maxAtOnce.get(message.topic) ?? 0, now));
        await sleep(20);
        atOnce.set(message.topic, (atOnce.get(message.topic) ?? 1) - 1);
      });
      await bus.subscribe(
        { topics: [reports, commands], group: unique('g'), concurrency: 8, unorderedTopics: [reports] },
        inbox.handler,
      );
      const batch = Array.from({ length: 20 }, (_, i) => ({ key: 'run-1', value: { seq: i } }));
      await bus.publish(commands, batch);
      await bus.publish(reports, batch);
      await inbox.until(40);
      expect(maxAtOnce.get(reports)).toBeGreaterThan(1);
      expect(maxAtOnce.get(commands)).toBe(1);
      const seqs = (topic: string) =>
        inbox.messages.filter((m) => m.topic === topic).map((m) => (m.value as { seq: number }).seq);
      expect(seqs(commands)).toEqual(batch.map((b) => b.value.seq));
      expect([...seqs(reports)].sort((a, b) => a - b)).toEqual(batch.map((b) => b.value.seq));
    },
    TEST_TIMEOUT,
  );

  it(
    'loses nothing while members join and leave a group mid-stream',
    async () => {
      const topic = unique('rebalance');
      const group = unique('g');
      const seen = new Map<number, number>();
      const bySecond = new Set<number>();
      const count =
        (member: string) =>
        async (message: DeliveredMessage): Promise<void> => {
          const id = (message.value as { id: number }).id;
          await sleep(10);
          seen.set(id, (seen.get(id) ?? 0) + 1);
          if (member === 'second') bySecond.add(id);
        };
      const first = openBus();
      await first.subscribe({ topics: [topic], group, concurrency: 2 }, count('first'));
      const total = 600;
      await first.publish(
        topic,
        Array.from({ length: total }, (_, i) => ({ key: `run-${i % 50}`, value: { id: i } })),
      );
      await waitFor(
        () => seen.size >= 100,
        30_000,
        () => `${seen.size} seen`,
      );
      const second = openBus();
      await second.subscribe({ topics: [topic], group, concurrency: 2 }, count('second'));
      await waitFor(
        () => seen.size >= 300,
        30_000,
        () => `${seen.size} seen`,
      );
      await first.close(); // its partitions move to the second member, from their committed offsets
      await waitFor(
        () => seen.size === total,
        40_000,
        () => `${seen.size} of ${total} seen`,
      );
      // At least once: a rebalance may hand a message to a second member, never to none.
      const duplicates = [...seen.values()].filter((times) => times > 1).length;
      expect(duplicates).toBeLessThan(total / 10);
      expect(bySecond.size).toBeGreaterThan(total / 4);
    },
    TEST_TIMEOUT,
  );

  it(
    'reports the lag of the partitions it owns while messages wait',
    async () => {
      const bus = openBus();
      const topic = unique('lag');
      let release: () => void = () => undefined;
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      const reports: number[] = [];
      await bus.subscribe(
        {
          topics: [topic],
          group: unique('g'),
          concurrency: 1,
          onLag: (lag) => reports.push(lag.filter((l) => l.topic === topic).reduce((sum, l) => sum + l.lag, 0)),
        },
        () => gate,
      );
      await bus.publish(
        topic,
        Array.from({ length: 6 }, (_, i) => ({ key: 'one-key', value: { i } })),
      );
      const deadline = Date.now() + 20_000;
      while (!reports.some((total) => total >= 6) && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 200));
      release();
      expect(Math.max(0, ...reports)).toBeGreaterThanOrEqual(6);
    },
    TEST_TIMEOUT,
  );

  it(
    'reports an unreachable broker as BUS.UNAVAILABLE, retryable, and a closed bus as BUS.CLOSED',
    async () => {
      const nowhere = openBus({ brokers: ['127.0.0.1:1'] });
      const failure = await nowhere.publish(unique('nowhere'), [{ key: 'k', value: 1 }]).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(KafkaBusError);
      expect(failure).toMatchObject({ code: 'BUS.UNAVAILABLE', retryable: true });

      const bus = openBus();
      await bus.close();
      await expect(bus.publish(unique('closed'), [{ key: 'k', value: 1 }])).rejects.toMatchObject({
        code: 'BUS.CLOSED',
        retryable: false,
      });
    },
    TEST_TIMEOUT,
  );
});
