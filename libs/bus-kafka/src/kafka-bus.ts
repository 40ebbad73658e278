import { Producer } from '@platformatic/kafka';
import type { BusMessage, BusSubscription, DeliveredMessage, MessageBus, SubscribeOptions } from '@orchestron/bus';
import { encodeMessage, partitionForKey } from './codec.ts';
import { KafkaBusError, translateKafkaError } from './errors.ts';
import { resolveOptions } from './options.ts';
import type { KafkaBusOptions } from './options.ts';
import { ProduceQueue } from './produce-queue.ts';
import { KafkaSubscription } from './subscription.ts';
import { TopicAdmin } from './topic-admin.ts';

export interface KafkaBus extends MessageBus {
  /**
   * Creates the topics that do not exist yet, with the configured partition counts, and waits until they
   * take writes. Idempotent. `publish` and `subscribe` do it themselves for the topics they touch; the runtime
   * calls it to provision ahead (every `orchestron.commands.<worker>` a definition names, when it is registered).
   */
  ensureTopics(topics: readonly string[]): Promise<void>;
}

/**
 * The production tier's bus on Apache Kafka (client: @platformatic/kafka, see docs/adr/0007-kafka-client.md).
 * Publishing is keyed, JSON-encoded, acknowledged by all in-sync replicas, through an idempotent producer.
 * Subscriptions are consumer-group members that commit only after success and dead-letter what fails.
 */
export function createKafkaBus(options: KafkaBusOptions): KafkaBus {
  const resolved = resolveOptions(options);
  const topics = new TopicAdmin({
    brokers: resolved.brokers,
    clientId: resolved.clientId,
    partitions: resolved.partitionsOf,
    replicationFactor: resolved.replicationFactor,
    logger: resolved.logger,
  });
  // Idempotent: a retried produce request is written once. Bounded retries, so an unreachable broker
  // surfaces as BUS.UNAVAILABLE after a few seconds instead of a publish that never returns.
  const producer = new Producer({
    clientId: resolved.clientId,
    bootstrapBrokers: [...resolved.brokers],
    idempotent: true,
    retries: 8,
    retryDelay: 250,
    timeout: 10_000,
    connectTimeout: 5_000,
  });
  // Publishes share produce requests: see ProduceQueue.
  const produce = new ProduceQueue({
    send: async (records) => {
      await producer.send({ messages: records });
    },
    isUnavailable: (error) => translateKafkaError(error, 'produce', 'BUS.PUBLISH_FAILED').code === 'BUS.UNAVAILABLE',
  });
  const subscriptions = new Set<KafkaSubscription>();
  let closed = false;
  let closing: Promise<void> | undefined;

  const ensureOpen = (what: string): void => {
    if (closed) throw new KafkaBusError('BUS.CLOSED', `${what}: the Kafka bus is closed`);
  };

  const publish = async (topic: string, messages: readonly BusMessage[]): Promise<void> => {
    ensureOpen(`publish to ${topic}`);
    if (messages.length === 0) return;
    await topics.ensure([topic]);
    const records = messages.map((message) => encodeMessage(topic, message, topics.partitionsOf(topic)));
    try {
      await produce.publish(records);
    } catch (error) {
      throw translateKafkaError(error, `publish ${records.length} message(s) to ${topic}`, 'BUS.PUBLISH_FAILED');
    }
  };

  return {
    publish,

    partitionOf: (topic, key) => partitionForKey(key, topics.partitionsOf(topic)),

    ensureTopics: (names) => topics.ensure(names),

    async subscribe(
      subscribeOptions: SubscribeOptions,
      handler: (message: DeliveredMessage) => Promise<void>,
    ): Promise<BusSubscription> {
      ensureOpen(`subscribe group ${subscribeOptions.group}`);
      if (closing !== undefined)
        throw new KafkaBusError('BUS.CLOSED', `subscribe group ${subscribeOptions.group}: the Kafka bus is closing`);
      if (subscribeOptions.topics.length === 0) throw new TypeError('subscribe: topics must name at least one topic');
      await topics.ensure(subscribeOptions.topics);
      const subscription = new KafkaSubscription({ options: resolved, publish }, subscribeOptions, handler);
      await subscription.start();
      subscriptions.add(subscription);
      return {
        async close() {
          subscriptions.delete(subscription);
          await subscription.close();
        },
      };
    },

    close() {
      closing ??= (async () => {
        // Subscriptions first: a handler finishing during shutdown may still publish, or dead-letter.
        await Promise.allSettled([...subscriptions].map((subscription) => subscription.close()));
        subscriptions.clear();
        closed = true;
        await produce.drain();
        await Promise.allSettled([producer.close(), topics.close()]);
      })();
      return closing;
    },
  };
}
