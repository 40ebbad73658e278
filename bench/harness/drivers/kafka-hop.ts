// One produce → consume hop through the broker: send a message, resolve when the consumer has it.
import { Admin, Consumer, Producer } from '@platformatic/kafka';
import type { MessagesStream } from '@platformatic/kafka';
import { setTimeout as sleep } from 'node:timers/promises';
import { KAFKA_BROKERS } from './kafka-admin.ts';

const PARTITIONS = 4;

export class KafkaHop {
  readonly settings = {
    client: '@platformatic/kafka (as libs/bus-kafka)',
    producer: 'idempotent, acks=all, one send per message (no linger)',
    consumer: 'one consumer group, autocommit off',
    partitions: PARTITIONS,
  };
  private readonly topic: string;
  private readonly group: string;
  private readonly waiting = new Map<string, () => void>();
  private producer: Producer | undefined;
  private consumer: Consumer | undefined;
  private stream: MessagesStream<Buffer, Buffer, Buffer, Buffer> | undefined;
  private seq = 0;

  constructor(topic: string, group: string) {
    this.topic = topic;
    this.group = group;
  }

  async open(): Promise<void> {
    await this.createTopic();
    this.producer = new Producer({ clientId: 'benchh-floor', bootstrapBrokers: KAFKA_BROKERS, idempotent: true });
    this.consumer = new Consumer({
      clientId: 'benchh-floor',
      groupId: this.group,
      bootstrapBrokers: KAFKA_BROKERS,
      autocommit: false,
      maxWaitTime: 500,
    });
    this.stream = await this.consumer.consume({ topics: [this.topic], mode: 'latest', autocommit: false });
    this.stream.on('data', (message) => this.waiting.get(message.value.toString())?.());
    await this.warmUp();
  }

  async trip(label: string): Promise<void> {
    const producer = this.producer;
    if (!producer) throw new Error('KafkaHop is not open');
    const id = `${this.seq++}:${label}`;
    const arrived = new Promise<void>((resolve) => this.waiting.set(id, resolve));
    await producer.send({ messages: [{ topic: this.topic, key: Buffer.from(id), value: Buffer.from(id) }] });
    await arrived;
    this.waiting.delete(id);
  }

  async close(): Promise<void> {
    await this.stream?.close();
    await this.consumer?.close(true);
    await this.producer?.close();
  }

  private async createTopic(): Promise<void> {
    const admin = new Admin({ clientId: 'benchh-floor-admin', bootstrapBrokers: KAFKA_BROKERS });
    try {
      await admin.createTopics({ topics: [this.topic], partitions: PARTITIONS, replicas: 1 });
      for (const deadline = Date.now() + 30_000; Date.now() < deadline; await sleep(100)) {
        const metadata = await admin.metadata({ topics: [this.topic], forceUpdate: true }).catch(() => undefined);
        const topic = metadata?.topics.get(this.topic);
        if (topic && topic.partitions.length === PARTITIONS && topic.partitions.every((p) => p.leader >= 0)) return;
      }
      throw new Error(`topic ${this.topic} has no leader for every partition after 30 s`);
    } finally {
      await admin.close();
    }
  }

  /** The consumer joins its group in the background: trips go through only once it has the partitions. */
  private async warmUp(): Promise<void> {
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const ok = await Promise.race([this.trip('warm').then(() => true), sleep(3000).then(() => false)]);
      if (ok) return;
    }
    throw new Error(`no message came back through ${this.topic} within 60 s`);
  }
}
