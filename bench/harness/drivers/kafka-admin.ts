// Kafka helpers of the drivers: the broker address, and removing the topics and groups a bench made.
import { Admin } from '@platformatic/kafka';

export const KAFKA_BROKERS = (process.env.ORCHESTRON_KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');

/** Deletes every topic and consumer group whose name starts with `prefix` (best effort: a bench leaves no litter). */
export async function deleteKafkaPrefix(prefix: string): Promise<void> {
  const admin = new Admin({ clientId: 'benchh-admin', bootstrapBrokers: KAFKA_BROKERS });
  try {
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
    if (topics.length > 0) await admin.deleteTopics({ topics });
    const groups = [...(await admin.listGroups()).keys()].filter((g) => g.startsWith(prefix));
    if (groups.length > 0) await admin.deleteGroups({ groups }).catch(() => undefined);
  } finally {
    await admin.close();
  }
}
