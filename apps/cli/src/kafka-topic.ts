import { randomUUID } from 'node:crypto';
import type * as Kafka from '@platformatic/kafka';
import { Topics } from '@orchestron/bus';
import { KafkaUnreachableError } from './cli.errors.ts';

/**
 * Direct Kafka access for the CLI's operator commands: read a whole topic without joining a consumer group,
 * and publish raw bytes. Nothing here commits offsets or creates groups, so nobody else's progress moves.
 */

/**
 * The Kafka client, loaded by the commands that use it: loading it compiles its option schemas, about half a second
 * of CPU that every other command, and every run of the CLI, would spend for nothing.
 */
const loadKafka = (): Promise<typeof Kafka> => import('@platformatic/kafka');

export const DEFAULT_BROKERS = '127.0.0.1:9092';

/** `--brokers`, else `$ORCHESTRON_KAFKA_BROKERS`, else 127.0.0.1:9092; comma-separated host:port. */
export function resolveBrokers(
  env: Readonly<Record<string, string | undefined>>,
  option: string | undefined,
): string[] {
  const raw = option ?? (env['ORCHESTRON_KAFKA_BROKERS'] || DEFAULT_BROKERS);
  return raw
    .split(',')
    .map((b) => b.trim())
    .filter((b) => b.length > 0);
}

/** One record as stored: bytes only. */
export interface TopicRecord {
  readonly partition: number;
  readonly offset: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: readonly (readonly [Buffer | null, Buffer | null])[];
}

const CONNECT_TIMEOUT_MS = 5_000;
const IS_CONTROL = 0b10_0000;
/** Transaction markers and aborted records can leave the log without user records up to the watermark: give up after this many empty fetches. */
const MAX_EMPTY_FETCHES = 20;

function clientId(): string {
  return Topics.group(`orchestron-cli-${randomUUID()}`);
}

function unreachable(brokers: readonly string[], error: unknown): KafkaUnreachableError {
  return new KafkaUnreachableError(brokers, rootMessage(error));
}

/** The client wraps what went wrong in layers of "failed N times": the innermost message says what it was. */
function rootMessage(error: unknown): string {
  let current = error;
  for (let depth = 0; depth < 10; depth++) {
    const inner = (current as { errors?: unknown } | null)?.errors;
    if (!Array.isArray(inner) || inner.length === 0) break;
    current = inner[inner.length - 1];
  }
  return current instanceof Error ? current.message : String(current);
}

/**
 * Every record of `topic`, partition by partition, from the log start to the high watermark read when it
 * started (so it terminates even while others keep writing). A topic that does not exist reads as empty.
 */
export async function readTopic(brokers: readonly string[], topic: string): Promise<TopicRecord[]> {
  // A Consumer needs a group id to exist, but fetch, metadata and listOffsets never use it: no group is joined.
  const id = clientId();
  const { Consumer } = await loadKafka();
  const consumer = new Consumer({
    clientId: id,
    groupId: id,
    bootstrapBrokers: [...brokers],
    retries: 1,
    retryDelay: 250,
    timeout: 10_000,
    connectTimeout: CONNECT_TIMEOUT_MS,
  });
  try {
    let topicMetadata;
    try {
      topicMetadata = (
        await consumer.metadata({ topics: [topic], forceUpdate: true, autocreateTopics: false })
      ).topics.get(topic);
    } catch (error) {
      // Asking does not create the topic: one that does not exist yet has simply never been written to.
      if (error instanceof Error && /^Unknown topic /.test(error.message)) return [];
      throw error;
    }
    if (topicMetadata === undefined) return [];
    const start = (await consumer.listOffsets({ topics: [topic], timestamp: -2n })).get(topic) ?? [];
    const end = (await consumer.listOffsets({ topics: [topic], timestamp: -1n })).get(topic) ?? [];
    const records: TopicRecord[] = [];
    for (let partition = 0; partition < topicMetadata.partitionsCount; partition++) {
      const leader = topicMetadata.partitions[partition]?.leader ?? -1;
      let next = start[partition] ?? 0n;
      const highWatermark = end[partition] ?? 0n;
      let empty = 0;
      while (next < highWatermark && empty < MAX_EMPTY_FETCHES) {
        const response = await consumer.fetch({
          node: leader,
          maxWaitTime: 200,
          minBytes: 1,
          maxBytes: 8 * 1024 * 1024,
          topics: [
            {
              topicId: topicMetadata.id,
              partitions: [
                {
                  partition,
                  fetchOffset: next,
                  partitionMaxBytes: 8 * 1024 * 1024,
                  currentLeaderEpoch: -1,
                  lastFetchedEpoch: -1,
                },
              ],
            },
          ],
        });
        const before = next;
        for (const topicResponse of response.responses) {
          for (const partitionResponse of topicResponse.partitions) {
            if (partitionResponse.partitionIndex !== partition) continue;
            if (partitionResponse.errorCode !== 0)
              throw new Error(
                `fetch ${topic}/${partition}@${next} failed with Kafka error code ${partitionResponse.errorCode}`,
              );
            for (const batch of partitionResponse.records ?? []) {
              const batchEnd = batch.firstOffset + BigInt(batch.lastOffsetDelta) + 1n;
              if ((batch.attributes & IS_CONTROL) === 0) {
                for (const record of batch.records) {
                  const offset = batch.firstOffset + BigInt(record.offsetDelta);
                  // A fetch may start inside a batch: skip what comes before the requested offset, and what is past the watermark read at start.
                  if (offset < next || offset >= highWatermark) continue;
                  records.push({
                    partition,
                    offset: Number(offset),
                    key: record.key,
                    value: record.value,
                    headers: record.headers,
                  });
                }
              }
              if (batchEnd > next) next = batchEnd;
            }
          }
        }
        empty = next === before ? empty + 1 : 0;
      }
    }
    return records;
  } catch (error) {
    if (error instanceof KafkaUnreachableError) throw error;
    throw isNetworkError(error) ? unreachable(brokers, error) : error;
  } finally {
    await consumer.close(true).catch(() => undefined);
  }
}

/** A record to write as is: the value's bytes are not re-encoded. */
export interface RawOutgoing {
  readonly topic: string;
  readonly key: Buffer;
  readonly value: Buffer;
  readonly headers: ReadonlyMap<Buffer, Buffer>;
}

/** Publishes `records` byte for byte, acknowledged by all in-sync replicas, through an idempotent producer. */
export async function publishRaw(brokers: readonly string[], records: readonly RawOutgoing[]): Promise<void> {
  if (records.length === 0) return;
  const { Producer } = await loadKafka();
  const producer = new Producer({
    clientId: clientId(),
    bootstrapBrokers: [...brokers],
    idempotent: true,
    retries: 3,
    retryDelay: 250,
    timeout: 10_000,
    connectTimeout: CONNECT_TIMEOUT_MS,
    autocreateTopics: false,
  });
  try {
    await producer.send({
      messages: records.map((r) => ({ topic: r.topic, key: r.key, value: r.value, headers: new Map(r.headers) })),
    });
  } catch (error) {
    throw isNetworkError(error) ? unreachable(brokers, error) : error;
  } finally {
    await producer.close().catch(() => undefined);
  }
}

function isNetworkError(error: unknown): boolean {
  const seen = new Set<unknown>();
  const visit = (e: unknown): boolean => {
    if (e === null || typeof e !== 'object' || seen.has(e)) return false;
    seen.add(e);
    const { code, name, errors, cause } = e as { code?: unknown; name?: unknown; errors?: unknown; cause?: unknown };
    if (typeof code === 'string' && /NETWORK|ECONNREFUSED|ETIMEDOUT|ENOTFOUND|EHOSTUNREACH|ECONNRESET/.test(code))
      return true;
    if (name === 'NetworkError' || name === 'TimeoutError') return true;
    if (e instanceof Error && /Cannot connect to any broker/.test(e.message)) return true;
    return (Array.isArray(errors) && errors.some(visit)) || visit(cause);
  };
  return visit(error);
}
