import { Consumer, MessagesStreamFallbackModes, MessagesStreamModes } from '@platformatic/kafka';
import type { GroupAssignment, Message, MessagesStream } from '@platformatic/kafka';
import type { BusMessage, BusSubscription, DeliveredMessage, SubscribeOptions } from '@orchestron/bus';
import { createCoPartitionAssigner, GROUP_PROTOCOLS } from './co-partition-assigner.ts';
import { decodeMessage, describeFailure, undecodedMessage } from './codec.ts';
import type { RawRecord } from './codec.ts';
import { sendToDeadLetters } from './dead-letters.ts';
import { retryWhileCoordinatorNotReady } from './coordinator-retry.ts';
import { describeError, translateKafkaError } from './errors.ts';
import { KeyLanes } from './key-lanes.ts';
import { OffsetCommits } from './offset-commits.ts';
import type { ResolvedOptions } from './options.ts';
import { PartitionProgress } from './partition-progress.ts';
import { keysOf, lagOf, partitionKey, reconnectDelay, settlesWithin } from './subscription-support.ts';

type RawMessage = Message<Buffer, Buffer, Buffer, Buffer>;
type RawStream = MessagesStream<Buffer, Buffer, Buffer, Buffer>;
type Handler = (message: DeliveredMessage) => Promise<void>;

interface Owned {
  readonly topic: string;
  readonly partition: number;
  readonly progress: PartitionProgress;
}

interface Entry {
  readonly partitionKey: string;
  readonly progress: PartitionProgress;
  readonly message: RawMessage;
  readonly offset: number;
}

export interface SubscriptionContext {
  readonly options: ResolvedOptions;
  readonly publish: (topic: string, messages: readonly BusMessage[]) => Promise<void>;
}

const LAG_INTERVAL_MS = 5_000;

/** Waiting messages above which fetching pauses, and below which it resumes. */
const HIGH_WATER = 1_000;
const LOW_WATER = 250;

/**
 * One member of a consumer group. Offsets are committed only past messages whose handler finished (or that went
 * to the dead-letter topic), and only up to the first one that has not: delivery is at least once. One message
 * per partition runs at a time at concurrency 1; above it, one per key (or any, with `orderByKey: false`). If the client's stream fails, the member
 * lets its running handlers finish, leaves, and joins again from the committed offsets.
 */
export class KafkaSubscription implements BusSubscription {
  private readonly context: SubscriptionContext;
  private readonly subscription: SubscribeOptions;
  private readonly handler: Handler;
  private readonly concurrency: number;
  private readonly lanes = new KeyLanes<Entry>();
  private readonly owned = new Map<string, Owned>();
  private readonly running = new Set<Promise<void>>();
  private readonly commits: OffsetCommits;
  /** One per member, so what it handed out last time outlives a reconnect. */
  private readonly assigner = createCoPartitionAssigner();
  private assigned = new Set<string>();
  private consumer: Consumer | undefined;
  private stream: RawStream | undefined;
  private active = 0;
  private paused = false;
  private closing = false;
  private finished = false;
  private reconnecting: Promise<void> | undefined;
  /** Armed while the group rebalances: if no assignment follows in time, the member starts over. */
  private rebalancing: ReturnType<typeof setTimeout> | undefined;
  private closed: Promise<void> | undefined;
  private lagTimer: ReturnType<typeof setInterval> | undefined;

  constructor(context: SubscriptionContext, subscription: SubscribeOptions, handler: Handler) {
    this.context = context;
    this.subscription = subscription;
    this.handler = handler;
    this.concurrency = Math.max(1, Math.floor(subscription.concurrency ?? 1));
    this.commits = new OffsetCommits({
      group: subscription.group,
      intervalMs: context.options.commitIntervalMs,
      logger: context.options.logger,
      consumer: () => (this.finished ? undefined : this.consumer),
      owned: () => [...this.owned].filter(([key]) => this.assigned.has(key)).map(([, owned]) => owned),
      closing: () => this.closing,
      stable: () => this.rebalancing === undefined && this.consumer?.isActive() === true,
    });
  }

  /**
   * Resolves once this member has joined its group and been given its partitions. A coordinator that is not ready
   * yet (a fresh broker still loading `__consumer_offsets`) is waited for, up to `joinTimeoutMs`.
   */
  async start(): Promise<void> {
    const { options } = this.context;
    await retryWhileCoordinatorNotReady(() => this.connect(), {
      group: this.subscription.group,
      deadlineMs: options.joinTimeoutMs,
      logger: options.logger,
    });
  }

  close(): Promise<void> {
    this.closed ??= this.shutdown();
    return this.closed;
  }

  private async connect(memberId: string | null = null): Promise<void> {
    const { options } = this.context;
    const consumer = new Consumer({
      clientId: `${options.clientId}-${this.subscription.group}`,
      groupId: this.subscription.group,
      bootstrapBrokers: [...options.brokers],
      autocommit: false,
      sessionTimeout: options.sessionTimeoutMs,
      rebalanceTimeout: options.sessionTimeoutMs,
      heartbeatInterval: options.heartbeatIntervalMs,
      maxWaitTime: 500,
      ...(options.staticMemberName !== undefined
        ? { groupInstanceId: `${options.staticMemberName}.${this.subscription.group}` }
        : {}),
      retries: 3,
      retryDelay: 500,
      protocols: GROUP_PROTOCOLS.map((protocol) => ({ ...protocol })),
      partitionAssigner: this.assigner,
    });
    if (memberId !== null) consumer.memberId = memberId;
    this.consumer = consumer;
    consumer.on('consumer:group:join', (payload) => this.assign(consumer, payload.assignments ?? []));

    consumer.on('consumer:group:rebalance', () => this.rebalance(consumer));
    // The client emits 'error' when it cannot rejoin its group; unhandled, that would end the process.
    consumer.on('error', (error: unknown) => this.fail(consumer, error));
    let stream: RawStream;
    try {
      stream = await consumer.consume({
        topics: [...this.subscription.topics],
        mode: MessagesStreamModes.COMMITTED,
        fallbackMode: MessagesStreamFallbackModes.EARLIEST,
        autocommit: false,
      });
    } catch (error) {
      this.consumer = undefined;
      await consumer.close(true).catch(() => undefined);
      throw translateKafkaError(
        error,
        `subscribe group ${this.subscription.group} to ${this.subscription.topics.join(', ')}`,
        'BUS.UNAVAILABLE',
      );
    }
    this.stream = stream;
    this.watchLag(consumer);
    stream.on('data', (message) => this.take(consumer, message));
    stream.on('error', (error) => this.fail(consumer, error));
    stream.on('close', () => this.fail(consumer, new Error('the message stream closed')));
  }

  /**
   * Our own interval rather than the client's lag monitoring: that one re-arms itself from a probe that finishes
   * after it was stopped, which kept processes alive. Unref'd, and a probe of a replaced consumer says nothing.
   */
  private watchLag(consumer: Consumer): void {
    const { onLag } = this.subscription;
    if (!onLag) return;
    clearInterval(this.lagTimer);
    this.lagTimer = setInterval(() => {
      if (consumer !== this.consumer || this.closing) return;
      consumer.getLag({ topics: [...this.subscription.topics] }).then(
        (offsets) => {
          if (consumer === this.consumer && !this.closing) onLag(lagOf(offsets));
        },
        () => undefined,
      ); // a failed probe says nothing about consumption; the next one may answer
    }, LAG_INTERVAL_MS);
    this.lagTimer.unref();
  }

  /**
   * The group rebalances. Under the cooperative protocol the client has already dropped, from its assignment, the
   * partitions this round takes away (it rejoins at once to hand them over): they are let go now, so nothing more
   * starts on them, and every partition it keeps goes on being consumed throughout. An eager rebalance (a group
   * still mixing members from before ADR 22) takes nothing away until the new assignment arrives. If none
   * arrives in time, the member starts over.
   */
  private rebalance(consumer: Consumer): void {
    if (consumer !== this.consumer) return;
    const kept = consumer.assignments;
    if (kept !== null) {
      const now = keysOf(kept);
      const leaving = [...this.owned].filter(([key]) => this.assigned.has(key) && !now.has(key));
      if ([...this.assigned].some((key) => !now.has(key))) {
        void this.commits.handOver(leaving.map(([, owned]) => owned));
        this.takeOver(kept, now, 'kafka consumer gave up partitions');
      }
    }
    if (this.rebalancing !== undefined) return;
    const limit = this.context.options.sessionTimeoutMs * 2;
    this.rebalancing = setTimeout(
      () => this.fail(consumer, new Error(`the group did not finish rebalancing within ${limit} ms`)),
      limit,
    );
  }

  private assign(consumer: Consumer, assignments: readonly GroupAssignment[]): void {
    if (consumer !== this.consumer) return;
    clearTimeout(this.rebalancing);
    this.rebalancing = undefined;
    this.takeOver(assignments, keysOf(assignments), 'kafka consumer assigned');
    this.pump();
  }

  /** Makes `now` this member's partitions: what waits here for the others is theirs to deliver from the committed offset. */
  private takeOver(assignments: readonly GroupAssignment[], now: Set<string>, event: string): void {
    for (const key of this.owned.keys()) if (!now.has(key)) this.owned.delete(key);
    this.lanes.discard((entry) => !now.has(entry.partitionKey));
    this.assigned = now;
    this.subscription.onAssigned?.(
      assignments.flatMap((a) => a.partitions.map((partition) => ({ topic: a.topic, partition }))),
    );
    this.context.options.logger.info(event, {
      group: this.subscription.group,
      partitions: [...now].sort().map((key) => key.replace('\u0000', '/')),
    });
  }

  /** Messages in one lane run one at a time: the partition's, the key's, or (unordered) each message's own. */
  private laneOf(partition: string, message: RawMessage, offset: number): string {
    if (this.concurrency === 1) return partition;
    if (this.subscription.orderByKey === false || this.subscription.unorderedTopics?.includes(message.topic))
      return `${partition}\u0001${offset}`;
    return `${partition}\u0000${message.key?.toString('latin1') ?? ''}`;
  }

  private take(consumer: Consumer, message: RawMessage): void {
    if (consumer !== this.consumer || this.closing) return;
    const key = partitionKey(message.topic, message.partition);
    if (!this.assigned.has(key)) return;
    let owned = this.owned.get(key);
    if (owned === undefined) {
      owned = { topic: message.topic, partition: message.partition, progress: new PartitionProgress() };
      this.owned.set(key, owned);
    }
    const offset = Number(message.offset);
    if (!owned.progress.take(offset, message.leaderEpoch)) return;
    const lane = this.laneOf(key, message, offset);
    this.lanes.push(lane, { partitionKey: key, progress: owned.progress, message, offset });
    if (this.lanes.size >= HIGH_WATER && !this.paused) {
      this.paused = true;
      this.stream?.pause();
    }
    this.pump();
  }

  private pump(): void {
    while (!this.closing && this.active < this.concurrency) {
      const next = this.lanes.take();
      if (next === undefined) break;
      this.active++;
      const run: Promise<void> = this.process(next.item).finally(() => {
        this.active--;
        this.running.delete(run);
        this.lanes.release(next.lane);
        if (this.paused && this.lanes.size <= LOW_WATER && !this.closing) {
          this.paused = false;
          this.stream?.resume();
        }
        this.pump();
      });
      this.running.add(run);
    }
  }

  private async process(entry: Entry): Promise<void> {
    const { message, offset } = entry;
    const at = { topic: message.topic, partition: message.partition, offset };
    const raw: RawRecord = { key: message.key, value: message.value, headers: message.headers };
    let delivered: DeliveredMessage | undefined;
    let failed = false;
    let failure: unknown;
    try {
      delivered = decodeMessage(raw, at);
      await this.handler(delivered);
    } catch (error) {
      failed = true;
      failure = error;
    }
    if (failed) {
      this.report(failure, delivered ?? undecodedMessage(raw, at));
      // A dead letter that fails again is not dead-lettered a second time: that would loop.
      if (at.topic !== this.context.options.dlqTopic) {
        const parked = await sendToDeadLetters(
          {
            topic: this.context.options.dlqTopic,
            group: this.subscription.group,
            publish: this.context.publish,
            logger: this.context.options.logger,
            stopping: () => this.closing,
          },
          raw,
          at,
          describeFailure(failure),
        );
        if (!parked) return;
      }
    }
    entry.progress.finish(offset);
    this.commits.schedule();
  }

  private report(error: unknown, message: DeliveredMessage): void {
    try {
      this.subscription.onError?.(error, message);
    } catch (thrown) {
      this.context.options.logger.error('onError threw', {
        group: this.subscription.group,
        error: describeError(thrown),
      });
    }
  }

  private fail(consumer: Consumer, error: unknown): void {
    if (consumer !== this.consumer || this.closing) return;
    this.context.options.logger.error('kafka consumer failed; joining again from the committed offsets', {
      group: this.subscription.group,
      error: describeError(error),
    });
    clearTimeout(this.rebalancing);
    this.rebalancing = undefined;
    this.consumer = undefined;
    this.stream = undefined;
    this.paused = false;
    this.lanes.discard(() => true);
    this.owned.clear();
    this.assigned = new Set();
    clearInterval(this.lagTimer);
    // Its session may expire while it reconnects and the partitions move: whatever it owned is not its own now.
    this.subscription.onAssigned?.([]);
    this.reconnecting = this.reconnect(consumer).finally(() => {
      this.reconnecting = undefined;
    });
  }

  private async reconnect(old: Consumer): Promise<void> {
    // Nothing of the old member may still run when the new one starts, or a key could see two handlers at once.
    await Promise.allSettled([...this.running]);
    // After a broker restart the coordinator still lists the old member until its session expires; joining under
    // a new id would make the whole group wait for it. Rejoining as it, the group goes on at once (a coordinator
    // that has dropped it answers UNKNOWN_MEMBER_ID, and the client joins afresh).
    const memberId = old.memberId;
    await old.close(true).catch(() => undefined);
    for (let attempt = 0; !this.closing; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, reconnectDelay(attempt)));
      if (this.closing) return;
      try {
        await this.connect(memberId);
        return;
      } catch (error) {
        this.context.options.logger.error('kafka consumer could not join again', {
          group: this.subscription.group,
          attempt,
          error: describeError(error),
        });
      }
    }
  }

  private async shutdown(): Promise<void> {
    this.closing = true;
    clearTimeout(this.rebalancing);
    this.stream?.pause();
    this.lanes.discard(() => true);
    const drained = await settlesWithin([...this.running], this.context.options.shutdownTimeoutMs);
    if (!drained) {
      this.context.options.logger.warn(
        'kafka subscription closed with handlers still running; their messages will be delivered again',
        { group: this.subscription.group, running: this.running.size },
      );
    }
    await this.reconnecting;
    await this.commits.flush();
    this.finished = true;
    const { consumer, stream } = this;
    clearInterval(this.lagTimer);
    this.consumer = undefined;
    this.stream = undefined;
    await stream?.close().catch(() => undefined);
    await consumer
      ?.close()
      .catch(() => consumer.close(true))
      .catch((error: unknown) => {
        this.context.options.logger.warn('kafka consumer did not leave its group cleanly', {
          group: this.subscription.group,
          error: describeError(error),
        });
      });
  }
}
