/** The message-bus port. Kafka and the in-process bus implement it; no client type crosses it. */
export interface BusMessage {
  /** Messages about a run are keyed by its id, so one partition sees them in order. */
  readonly key: string;
  readonly value: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface DeliveredMessage extends BusMessage {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

export interface SubscribeOptions {
  readonly topics: readonly string[];
  /** Consumers in one group share the work; each message goes to one of them. */
  readonly group: string;
  /** Handlers running at once; per-partition order holds only at 1. */
  readonly concurrency?: number;
  /**
   * Above concurrency 1, whether a key's messages run one at a time, in order (the default). `false` lets them run
   * side by side too, for a handler that needs no order among them: a worker's commands, which its ledger
   * deduplicates by attempt, so the steps of one run (one key) run in parallel. The in-process bus never orders.
   */
  readonly orderByKey?: boolean;
  /**
   * Topics whose messages run side by side even within a key, while the other topics keep `orderByKey`: for the
   * orchestrator, workers' reports and governance's rulings, which its run queue decides in one append whatever
   * their order (a report or ruling that no longer applies is ignored as stale), next to operator commands, which
   * keep theirs; for governance, its requests (ADR 44).
   */
  readonly unorderedTopics?: readonly string[];
  /** Called when a handler throws; the message is then dead-lettered. */
  readonly onError?: (error: unknown, message: DeliveredMessage) => void;
  /**
   * Called with every partition this member owns, each time the group hands them out (at join and after each
   * rebalance). Whatever belongs to a partition (a run's timers) belongs to the member that owns it.
   */
  readonly onAssigned?: (partitions: readonly TopicPartition[]) => void;
  /**
   * Told every few seconds how many messages wait in each partition this member owns (end offset minus committed
   * offset). Adapters without a log to lag behind (the in-process bus) never call it.
   */
  readonly onLag?: (lag: readonly PartitionLag[]) => void;
}

export interface PartitionLag extends TopicPartition {
  readonly lag: number;
}

export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

export interface BusSubscription {
  close(): Promise<void>;
}

export interface MessageBus {
  publish(topic: string, messages: readonly BusMessage[]): Promise<void>;
  /**
   * Makes sure these topics exist and take writes before anyone publishes to them or subscribes: a worker that
   * subscribes before the first dispatch then finds its command topic there. Idempotent; an adapter whose topics
   * need no creating (the in-process bus) does nothing. Throws a retryable error when the broker is away.
   */
  ensureTopics(topics: readonly string[]): Promise<void>;
  subscribe(options: SubscribeOptions, handler: (message: DeliveredMessage) => Promise<void>): Promise<BusSubscription>;
  /** The partition `publish` puts a message with this key on: the owner of a run is whoever owns this partition. */
  partitionOf(topic: string, key: string): number;
  close(): Promise<void>;
}
