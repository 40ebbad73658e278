import { Topics } from './topics.ts';
import type { BusMessage, BusSubscription, DeliveredMessage, MessageBus, SubscribeOptions } from './bus.ts';

interface Group {
  readonly name: string;
  readonly concurrency: number;
  readonly handler: (message: DeliveredMessage) => Promise<void>;
  readonly onError: SubscribeOptions['onError'];
  readonly onAssigned: SubscribeOptions['onAssigned'];
  readonly topics: readonly string[];
  readonly queue: DeliveredMessage[];
  active: number;
  closed: boolean;
  idle: Array<() => void>;
}

/**
 * The embedded tier's bus: in-process, nothing kept across a crash (the runtime re-dispatches from the event
 * store on start). A handler that throws sends the message to the dead-letter topic with the reason.
 */
export function createInMemoryBus(options: { readonly partitions?: number } = {}): MessageBus {
  const partitions = options.partitions ?? 8;
  const offsets = new Map<string, number>();
  const groupsByTopic = new Map<string, Map<string, Group[]>>();
  let closed = false;

  const pump = (group: Group): void => {
    while (!group.closed && group.active < group.concurrency && group.queue.length > 0) {
      const message = group.queue.shift() as DeliveredMessage;
      group.active++;
      void run(group, message);
    }
    if (group.active === 0 && group.queue.length === 0) for (const resolve of group.idle.splice(0)) resolve();
  };

  const run = async (group: Group, message: DeliveredMessage): Promise<void> => {
    try {
      await group.handler(message);
    } catch (error) {
      group.onError?.(error, message);
      if (message.topic !== Topics.deadLetters) {
        await publish(Topics.deadLetters, [
          {
            key: message.key,
            value: {
              reason: describe(error),
              topic: message.topic,
              partition: message.partition,
              offset: message.offset,
              original: message.value,
            },
            headers: message.headers ?? {},
          },
        ]);
      }
    } finally {
      group.active--;
      pump(group);
    }
  };

  const publish = async (topic: string, messages: readonly BusMessage[]): Promise<void> => {
    if (closed) throw new Error('the bus is closed');
    for (const m of messages) {
      const offset = offsets.get(topic) ?? 0;
      offsets.set(topic, offset + 1);
      const delivered: DeliveredMessage = { ...m, topic, partition: partitionOf(m.key, partitions), offset };
      for (const members of groupsByTopic.get(topic)?.values() ?? []) {
        const open = members.filter((g) => !g.closed);
        if (open.length === 0) continue;
        const target = open[delivered.partition % open.length] as Group;
        target.queue.push(delivered);
        // Deliver on a later turn, as a broker would: the publisher never runs a consumer's handler itself.
        setImmediate(() => pump(target));
      }
    }
  };

  // Members of a group split the partitions as `publish` does: partition p goes to open member p % members.
  const reassign = (groupName: string, topics: readonly string[]): void => {
    const members = [...new Set(topics.flatMap((topic) => groupsByTopic.get(topic)?.get(groupName) ?? []))].filter(
      (g) => !g.closed,
    );
    members.forEach((member, index) => {
      const owned = member.topics.flatMap((topic) =>
        Array.from({ length: partitions }, (_, partition) => ({ topic, partition })).filter(
          (tp) => tp.partition % members.length === index,
        ),
      );
      member.onAssigned?.(owned);
    });
  };

  return {
    publish,
    // A topic here is a name in a map, made on first use.
    ensureTopics: async () => undefined,
    partitionOf: (_topic, key) => partitionOf(key, partitions),
    async subscribe(opts, handler): Promise<BusSubscription> {
      const group: Group = {
        name: opts.group,
        concurrency: Math.max(1, opts.concurrency ?? 1),
        handler,
        onError: opts.onError,
        onAssigned: opts.onAssigned,
        topics: [...opts.topics],
        queue: [],
        active: 0,
        closed: false,
        idle: [],
      };
      for (const topic of opts.topics) {
        const groups = groupsByTopic.get(topic) ?? new Map<string, Group[]>();
        groupsByTopic.set(topic, groups);
        groups.set(opts.group, [...(groups.get(opts.group) ?? []), group]);
      }
      reassign(opts.group, opts.topics);
      return {
        async close() {
          group.closed = true;
          group.queue.length = 0;
          reassign(opts.group, opts.topics);
          if (group.active > 0) await new Promise<void>((resolve) => group.idle.push(resolve));
        },
      };
    },
    async close() {
      closed = true;
    },
  };
}

function partitionOf(key: string, partitions: number): number {
  let hash = 0;
  for (let i = 0; i < key.length; i++) hash = (Math.imul(hash, 31) + key.charCodeAt(i)) >>> 0;
  return hash % partitions;
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
