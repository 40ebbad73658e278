/**
 * Produce → consume benchmark of the Kafka clients considered in docs/adr/0007-kafka-client.md, against a real
 * broker (default 127.0.0.1:9092; `npm run kafka:start`). For each client: a fresh 3-partition topic, 20,000
 * messages of ~300 bytes keyed by 1,000 keys, idempotent producer with acks=all (what the adapter uses), then
 *   (a) produce throughput, batches of 500 with 4 batches in flight,
 *   (b) one-at-a-time produce → consume round trip over 1,000 messages (linger 0), p50/p99,
 *   (c) consume throughput of a fresh consumer group reading the 20,000 from the start.
 * A third row measures our MessageBus adapter on @platformatic/kafka the same way (JSON values, handler per
 * message at concurrency 16, offsets committed after each handler).
 *
 *   node libs/bus-kafka/bench/clients.bench.ts [--json]
 *
 * @confluentinc/kafka-javascript is not a dependency of the repo (see the ADR). The confluent part runs when
 * it is resolvable from here, or from the directory in ORCHESTRON_CKJS_DIR (a project where it was built,
 * e.g. /tmp/ckjs-eval); otherwise it is skipped with a message.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Admin, Consumer, Producer } from '@platformatic/kafka';
import type { BusSubscription } from '@orchestron/bus';
import { createKafkaBus } from '../src/index.ts';

const BROKERS = (process.env['ORCHESTRON_KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(',');
const MESSAGES = Number(process.env['BENCH_MESSAGES'] ?? 20_000);
const KEYS = 1_000;
const PARTITIONS = 3;
const ROUND_TRIPS = Number(process.env['BENCH_ROUND_TRIPS'] ?? 1_000);
const BATCH = 500;
const IN_FLIGHT = 4;
const RUN = `${process.pid}-${Date.now().toString(36)}`;

interface BenchMessage {
  readonly key: string;
  readonly value: string;
}

interface ClientBench {
  readonly name: string;
  /** Connects the producer (and, if idempotent, gets its producer id) before anything is timed. */
  warmUpProducer(topic: string): Promise<void>;
  produce(topic: string, messages: readonly BenchMessage[]): Promise<void>;
  /** Starts a consumer of `topic` from its beginning in a fresh group; resolves when `count` messages arrived. */
  consume(topic: string, count: number): Promise<{ firstMessageMs: number; totalMs: number }>;
  /** One message at a time: send, wait until the consumer has it, send the next. Returns each trip in ms. */
  roundTrips(topic: string, count: number): Promise<number[]>;
  close(): Promise<void>;
}

interface Result {
  readonly client: string;
  readonly produceMsgsPerSec: number;
  readonly consumeMsgsPerSec: number;
  readonly consumeFirstMessageMs: number;
  readonly roundTripP50Ms: number;
  readonly roundTripP99Ms: number;
  readonly roundTripMaxMs: number;
}

function payload(index: number): BenchMessage {
  const body = { runId: `run-${index % KEYS}`, seq: index, type: 'step.completed', sentAt: 0, pad: '' };
  const bare = JSON.stringify(body).length;
  return { key: `run-${index % KEYS}`, value: JSON.stringify({ ...body, pad: 'x'.repeat(Math.max(0, 300 - bare)) }) };
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/** Creates the topic and waits until every partition has a leader, so no client pays for a retry on a new topic. */
async function createTopic(name: string): Promise<void> {
  const admin = new Admin({ clientId: 'orchestron-bench-admin', bootstrapBrokers: BROKERS });
  try {
    await admin.createTopics({ topics: [name], partitions: PARTITIONS, replicas: 1 });
    for (
      const deadline = Date.now() + 30_000;
      Date.now() < deadline;
      await new Promise((resolve) => setTimeout(resolve, 100))
    ) {
      const topic = (await admin.metadata({ topics: [name], forceUpdate: true }).catch(() => undefined))?.topics.get(
        name,
      );
      if (topic && topic.partitions.length === PARTITIONS && topic.partitions.every((p) => p.leader >= 0)) return;
    }
    throw new Error(`topic ${name} has no leader for every partition after 30 s`);
  } finally {
    await admin.close();
  }
}

async function inWindows(
  messages: readonly BenchMessage[],
  send: (batch: BenchMessage[]) => Promise<void>,
): Promise<void> {
  const batches: BenchMessage[][] = [];
  for (let i = 0; i < messages.length; i += BATCH) batches.push(messages.slice(i, i + BATCH));
  let next = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < batches.length) await send(batches[next++] as BenchMessage[]);
    }),
  );
}

function platformatic(): ClientBench {
  const producer = new Producer({ clientId: 'orchestron-bench', bootstrapBrokers: BROKERS, idempotent: true });
  const consumers: Consumer[] = [];
  const consumer = (group: string): Consumer => {
    const created = new Consumer({
      clientId: 'orchestron-bench',
      groupId: group,
      bootstrapBrokers: BROKERS,
      autocommit: false,
      maxWaitTime: 500,
    });
    consumers.push(created);
    return created;
  };
  const toRecord = (topic: string) => (m: BenchMessage) => ({
    topic,
    key: Buffer.from(m.key),
    value: Buffer.from(m.value),
  });
  return {
    name: '@platformatic/kafka',
    async warmUpProducer(topic) {
      await producer.send({ messages: [{ topic, key: Buffer.from('warm'), value: Buffer.from('warm') }] });
    },
    async produce(topic, messages) {
      await inWindows(messages, async (batch) => void (await producer.send({ messages: batch.map(toRecord(topic)) })));
    },
    async consume(topic, count) {
      const started = performance.now();
      const stream = await consumer(`bench-consume-${RUN}-${topic}`).consume({
        topics: [topic],
        mode: 'earliest',
        autocommit: false,
      });
      let seen = 0;
      let first = 0;
      for await (const _message of stream) {
        if (seen++ === 0) first = performance.now();
        if (seen === count) break;
      }
      const done = performance.now();
      await stream.close();
      return { firstMessageMs: first - started, totalMs: done - first };
    },
    async roundTrips(topic, count) {
      const stream = await consumer(`bench-rt-${RUN}`).consume({ topics: [topic], mode: 'latest', autocommit: false });
      const waiting = new Map<string, () => void>();
      stream.on('data', (message) => waiting.get(message.value.toString())?.());
      const trip = async (id: string): Promise<number> => {
        const arrived = new Promise<void>((resolve) => waiting.set(id, resolve));
        const t0 = performance.now();
        await producer.send({ messages: [{ topic, key: Buffer.from(id), value: Buffer.from(id) }] });
        await arrived;
        waiting.delete(id);
        return performance.now() - t0;
      };
      await warmUp(trip);
      const trips: number[] = [];
      for (let i = 0; i < count; i++) trips.push(await trip(`rt-${i}`));
      await stream.close();
      return trips;
    },
    async close() {
      await Promise.all(consumers.map((c) => c.close(true)));
      await producer.close();
    },
  };
}

/** Our MessageBus on @platformatic/kafka: what the engine gets (JSON, headers, commit after each handler). */
function adapter(): ClientBench {
  const bus = createKafkaBus({ brokers: BROKERS, clientId: 'orchestron-bench-adapter', partitions: PARTITIONS });
  const subscriptions: BusSubscription[] = [];
  return {
    name: 'orchestron bus-kafka adapter (@platformatic/kafka)',
    async warmUpProducer(topic) {
      await bus.publish(topic, [{ key: 'warm', value: 'warm' }]);
    },
    async produce(topic, messages) {
      await inWindows(messages, (batch) =>
        bus.publish(
          topic,
          batch.map((m) => ({ key: m.key, value: JSON.parse(m.value) as unknown })),
        ),
      );
    },
    async consume(topic, count) {
      const started = performance.now();
      let seen = 0;
      let first = 0;
      let done = 0;
      await new Promise<void>((resolve) => {
        void bus
          .subscribe({ topics: [topic], group: `bench-consume-${RUN}-${topic}`, concurrency: 16 }, async () => {
            if (seen++ === 0) first = performance.now();
            if (seen === count) {
              done = performance.now();
              resolve();
            }
          })
          .then((s) => subscriptions.push(s));
      });
      return { firstMessageMs: first - started, totalMs: done - first };
    },
    async roundTrips(topic, count) {
      const waiting = new Map<string, () => void>();
      subscriptions.push(
        await bus.subscribe({ topics: [topic], group: `bench-rt-${RUN}-adapter` }, async (message) =>
          waiting.get(String(message.value))?.(),
        ),
      );
      const trip = async (id: string): Promise<number> => {
        const arrived = new Promise<void>((resolve) => waiting.set(id, resolve));
        const t0 = performance.now();
        await bus.publish(topic, [{ key: id, value: id }]);
        await arrived;
        waiting.delete(id);
        return performance.now() - t0;
      };
      await warmUp(trip);
      const trips: number[] = [];
      for (let i = 0; i < count; i++) trips.push(await trip(`rt-${i}`));
      return trips;
    },
    async close() {
      await Promise.all(subscriptions.map((s) => s.close()));
      await bus.close();
    },
  };
}

/** The first trips include the group join and the first fetch; wait until a message goes through. */
async function warmUp(trip: (id: string) => Promise<number>): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (let i = 0; ; i++) {
    const ok = await Promise.race([
      trip(`warm-${i}`).then(() => true),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 5_000)),
    ]);
    if (ok) return;
    if (Date.now() > deadline) throw new Error('the round-trip consumer never received a message');
  }
}

/** The slice of the KafkaJS-compatible API of @confluentinc/kafka-javascript this benchmark uses. */
interface KafkaJsMessage {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
}
interface KafkaJsProducer {
  connect(): Promise<void>;
  send(record: { topic: string; messages: { key: string; value: string }[] }): Promise<unknown>;
  disconnect(): Promise<void>;
}
interface KafkaJsConsumer {
  connect(): Promise<void>;
  subscribe(options: { topics: string[] }): Promise<void>;
  run(options: {
    partitionsConsumedConcurrently?: number;
    eachMessage: (payload: { message: KafkaJsMessage }) => Promise<void>;
  }): Promise<void>;
  assignment(): unknown[];
  disconnect(): Promise<void>;
}
interface KafkaJsClient {
  producer(config: Record<string, unknown>): KafkaJsProducer;
  consumer(config: Record<string, unknown>): KafkaJsConsumer;
}
interface ConfluentModule {
  readonly librdkafkaVersion: string;
  readonly KafkaJS: { Kafka: new (config: Record<string, unknown>) => KafkaJsClient; logLevel: Record<string, number> };
}

function loadConfluent(): ConfluentModule | string {
  const places = [
    import.meta.url,
    ...(process.env['ORCHESTRON_CKJS_DIR'] ? [join(process.env['ORCHESTRON_CKJS_DIR'], 'package.json')] : []),
  ];
  const problems: string[] = [];
  for (const place of places) {
    try {
      return createRequire(place)('@confluentinc/kafka-javascript') as ConfluentModule;
    } catch (error) {
      problems.push(`${place}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
    }
  }
  return problems.join('; ');
}

async function confluent(module: ConfluentModule): Promise<ClientBench> {
  const kafka = new module.KafkaJS.Kafka({
    kafkaJS: { clientId: 'orchestron-bench', brokers: BROKERS, logLevel: module.KafkaJS.logLevel['ERROR'] },
  });
  const batching = kafka.producer({ kafkaJS: { idempotent: true, acks: -1 } });
  const immediate = kafka.producer({ kafkaJS: { idempotent: true, acks: -1 }, 'linger.ms': 0 });
  await Promise.all([batching.connect(), immediate.connect()]);
  const consumers: KafkaJsConsumer[] = [];
  const consumer = async (group: string, fromBeginning: boolean, topic: string): Promise<KafkaJsConsumer> => {
    const created = kafka.consumer({ kafkaJS: { groupId: group, fromBeginning, autoCommit: false } });
    consumers.push(created);
    await created.connect();
    await created.subscribe({ topics: [topic] });
    return created;
  };
  return {
    name: `@confluentinc/kafka-javascript (librdkafka ${module.librdkafkaVersion})`,
    async warmUpProducer(topic) {
      await Promise.all(
        [batching, immediate].map((p) => p.send({ topic, messages: [{ key: 'warm', value: 'warm' }] })),
      );
    },
    async produce(topic, messages) {
      await inWindows(messages, async (batch) => void (await batching.send({ topic, messages: batch })));
    },
    async consume(topic, count) {
      const started = performance.now();
      let seen = 0;
      let first = 0;
      let done = 0;
      const finished = new Promise<void>((resolve) => {
        void consumer(`bench-consume-${RUN}-${topic}`, true, topic).then((c) =>
          c.run({
            partitionsConsumedConcurrently: PARTITIONS,
            eachMessage: async () => {
              if (seen++ === 0) first = performance.now();
              if (seen === count) {
                done = performance.now();
                resolve();
              }
            },
          }),
        );
      });
      await finished;
      return { firstMessageMs: first - started, totalMs: done - first };
    },
    async roundTrips(topic, count) {
      const waiting = new Map<string, () => void>();
      const c = await consumer(`bench-rt-${RUN}`, false, topic);
      await c.run({
        partitionsConsumedConcurrently: PARTITIONS,
        eachMessage: async ({ message }) => waiting.get(message.value?.toString() ?? '')?.(),
      });
      const trip = async (id: string): Promise<number> => {
        const arrived = new Promise<void>((resolve) => waiting.set(id, resolve));
        const t0 = performance.now();
        await immediate.send({ topic, messages: [{ key: id, value: id }] });
        await arrived;
        waiting.delete(id);
        return performance.now() - t0;
      };
      await warmUp(trip);
      const trips: number[] = [];
      for (let i = 0; i < count; i++) trips.push(await trip(`rt-${i}`));
      return trips;
    },
    async close() {
      await Promise.all(consumers.map((c) => c.disconnect()));
      await Promise.all([batching.disconnect(), immediate.disconnect()]);
    },
  };
}

async function measure(client: ClientBench, tag: string): Promise<Result> {
  const topic = `orchestron.bench.${tag}.${RUN}`;
  const rtTopic = `${topic}.rt`;
  await createTopic(topic);
  await createTopic(rtTopic);
  const messages = Array.from({ length: MESSAGES }, (_, i) => payload(i));
  await client.warmUpProducer(rtTopic);

  const t0 = performance.now();
  await client.produce(topic, messages);
  const produceMs = performance.now() - t0;
  console.log(`  ${client.name}: produced ${MESSAGES} in ${produceMs.toFixed(0)} ms`);

  const consumed = await client.consume(topic, MESSAGES);
  console.log(
    `  ${client.name}: consumed ${MESSAGES} in ${consumed.totalMs.toFixed(0)} ms after the first (first after ${consumed.firstMessageMs.toFixed(0)} ms)`,
  );

  const trips = (await client.roundTrips(rtTopic, ROUND_TRIPS)).sort((a, b) => a - b);
  console.log(`  ${client.name}: ${trips.length} round trips`);
  return {
    client: client.name,
    produceMsgsPerSec: Math.round(MESSAGES / (produceMs / 1000)),
    consumeMsgsPerSec: Math.round(MESSAGES / (consumed.totalMs / 1000)),
    consumeFirstMessageMs: Math.round(consumed.firstMessageMs),
    roundTripP50Ms: Number(percentile(trips, 50).toFixed(2)),
    roundTripP99Ms: Number(percentile(trips, 99).toFixed(2)),
    roundTripMaxMs: Number((trips[trips.length - 1] ?? Number.NaN).toFixed(2)),
  };
}

async function main(): Promise<void> {
  console.log(
    `Kafka client benchmark against ${BROKERS.join(',')}: ${MESSAGES} messages of ~300 bytes, ${KEYS} keys, ${PARTITIONS} partitions, ${ROUND_TRIPS} round trips`,
  );
  const results: Result[] = [];
  const plat = platformatic();
  try {
    results.push(await measure(plat, 'platformatic'));
  } finally {
    await plat.close();
  }
  const ours = adapter();
  try {
    results.push(await measure(ours, 'adapter'));
  } finally {
    await ours.close();
  }
  const loaded = loadConfluent();
  if (typeof loaded === 'string') {
    console.log(
      `@confluentinc/kafka-javascript is not resolvable here, skipping it (set ORCHESTRON_CKJS_DIR to a project where it is built). ${loaded}`,
    );
  } else {
    const conf = await confluent(loaded);
    try {
      results.push(await measure(conf, 'confluent'));
    } finally {
      await conf.close();
    }
  }
  if (process.argv.includes('--json')) console.log(JSON.stringify(results, null, 2));
  else console.table(results);
}

await main();
