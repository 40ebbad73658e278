import { Admin } from '@platformatic/kafka';
import { isAlreadyExists, translateKafkaError } from './errors.ts';
import type { KafkaBusLogger } from './options.ts';

export interface TopicAdminOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly partitions: (topic: string) => number;
  readonly replicationFactor: number | undefined;
  readonly logger: KafkaBusLogger;
}

const LEADER_WAIT_MS = 15_000;

/**
 * Creates topics before anything uses them, with the partition count configured for each (the broker's
 * auto-creation would give them its default, usually 1, and nothing could be keyed across partitions).
 * Idempotent: a topic that exists is left as it is. Each topic is checked once per process.
 */
export class TopicAdmin {
  private readonly options: TopicAdminOptions;
  private readonly ready = new Map<string, Promise<void>>();
  private readonly counts = new Map<string, number>();
  private admin: Admin | undefined;

  constructor(options: TopicAdminOptions) {
    this.options = options;
  }

  async ensure(topics: readonly string[]): Promise<void> {
    await Promise.all([...new Set(topics)].map((topic) => this.ensureOne(topic)));
  }

  /**
   * The topic's real partition count once `ensure` has seen it (a topic made earlier may have another count
   * than configured), else the configured one. Keys are placed by it, so every client agrees on a key's partition.
   */
  partitionsOf(topic: string): number {
    return this.counts.get(topic) ?? this.options.partitions(topic);
  }

  async close(): Promise<void> {
    const admin = this.admin;
    this.admin = undefined;
    await admin?.close();
  }

  private ensureOne(topic: string): Promise<void> {
    let ready = this.ready.get(topic);
    if (ready === undefined) {
      ready = this.create(topic).catch((error: unknown) => {
        this.ready.delete(topic);
        throw translateKafkaError(error, `create topic ${topic}`, 'BUS.UNAVAILABLE');
      });
      this.ready.set(topic, ready);
    }
    return ready;
  }

  private client(): Admin {
    this.admin ??= new Admin({
      clientId: `${this.options.clientId}-admin`,
      bootstrapBrokers: [...this.options.brokers],
      retries: 3,
      retryDelay: 250,
    });
    return this.admin;
  }

  private async create(topic: string): Promise<void> {
    const admin = this.client();
    const partitions = this.options.partitions(topic);
    const replicas = this.options.replicationFactor ?? Math.min(3, (await admin.metadata({ topics: [] })).brokers.size);
    try {
      await admin.createTopics({ topics: [topic], partitions, replicas });
    } catch (error) {
      if (!isAlreadyExists(error)) throw error;
    }
    await this.waitForLeaders(admin, topic, partitions);
  }

  /** A new topic answers produce requests only once each partition has a leader; until then the client retries slowly. */
  private async waitForLeaders(admin: Admin, topic: string, expected: number): Promise<void> {
    const deadline = Date.now() + LEADER_WAIT_MS;
    let last: unknown;
    while (Date.now() < deadline) {
      try {
        const metadata = (await admin.metadata({ topics: [topic], forceUpdate: true })).topics.get(topic);
        if (
          metadata !== undefined &&
          metadata.partitions.length > 0 &&
          metadata.partitions.every((p) => p !== undefined && p.leader >= 0)
        ) {
          this.counts.set(topic, metadata.partitionsCount);
          if (metadata.partitionsCount !== expected) {
            this.options.logger.warn(
              'kafka topic has another partition count than configured; left as it is, and keys are placed by its real count',
              { topic, partitions: metadata.partitionsCount, configured: expected },
            );
          }
          return;
        }
      } catch (error) {
        last = error;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw last ?? new Error(`topic ${topic} has no leader for every partition after ${LEADER_WAIT_MS} ms`);
  }
}
