import type { GroupAssignment } from '@platformatic/kafka';
import type { PartitionLag } from '@orchestron/bus';

// Small pure helpers of KafkaSubscription.

const RECONNECT_FIRST_MS = 250;
const RECONNECT_MAX_MS = 2_000;

/** The client's lag map (per topic, indexed by partition; -1 where this member is not assigned) as the port's list. */
export function lagOf(offsets: ReadonlyMap<string, readonly bigint[]>): PartitionLag[] {
  const out: PartitionLag[] = [];
  for (const [topic, partitions] of offsets)
    partitions.forEach((lag, partition) => {
      if (lag >= 0n) out.push({ topic, partition, lag: Number(lag) });
    });
  return out;
}

/**
 * Between joins after a failure: 250 ms doubling to 2 s, each times a random factor in [0.5, 1). Short, so a member
 * is back within about 2 s of its broker; a failed attempt costs one refused connection.
 */
export function reconnectDelay(attempt: number): number {
  return Math.min(RECONNECT_MAX_MS, RECONNECT_FIRST_MS * 2 ** attempt) * (0.5 + Math.random() / 2);
}

export function keysOf(assignments: readonly GroupAssignment[]): Set<string> {
  return new Set(assignments.flatMap((a) => a.partitions.map((p) => partitionKey(a.topic, p))));
}

export function partitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

export async function settlesWithin(promises: readonly Promise<unknown>[], ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([Promise.allSettled(promises).then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
