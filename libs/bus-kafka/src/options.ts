import { Topics } from '@orchestron/bus';

/** Structurally the runtime's Logger, so the engine's logger can be passed as it is. */
export interface KafkaBusLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export interface KafkaBusOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  /** Partitions of the topics this bus creates: one count for all, or per topic (others get the default, 8). */
  readonly partitions?: Readonly<Record<string, number>> | number;
  /** Replicas of the topics this bus creates. Default: 3, or the number of brokers when there are fewer. */
  readonly replicationFactor?: number;
  /** Where messages whose handler threw, or that are not JSON, go. Default `orchestron.dlq`. */
  readonly dlqTopic?: string;
  readonly logger?: KafkaBusLogger;
  /**
   * How long closing a subscription waits for handlers still running. Their messages are not committed and go
   * to the next member of the group. Default 30 s.
   */
  readonly shutdownTimeoutMs?: number;
  /** A member silent this long is dropped from its group and its partitions move. Default 30 s. */
  readonly sessionTimeoutMs?: number;
  /**
   * Default 1 s, or a third of `sessionTimeoutMs` when that is shorter (so a member misses two heartbeats before it
   * is dropped). A new member waits about this long for the others to notice it and rebalance.
   */
  readonly heartbeatIntervalMs?: number;
  /**
   * How long a finished message's offset may wait to be committed with the others of that moment. Default 100 ms.
   * A member that dies redelivers at most about this much.
   */
  readonly commitIntervalMs?: number;
  /**
   * How long `subscribe` keeps joining again, with backoff and jitter, while the group's coordinator is not ready
   * (NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE, COORDINATOR_LOAD_IN_PROGRESS: a fresh broker loading its offsets
   * topic). Past it, subscribe fails with BUS.UNAVAILABLE naming what it waited for. Default 60 s.
   */
  readonly joinTimeoutMs?: number;
  /**
   * This process's stable name in its consumer groups (Kafka static membership, KIP-345): a process restarted under
   * the same name takes its partitions back at once, without waiting for the session of the one that died. Each
   * group gets `<name>.<group>`. Two live processes must never share a name: the second fences the first.
   */
  readonly staticMemberName?: string;
}

export interface ResolvedOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly partitionsOf: (topic: string) => number;
  readonly replicationFactor: number | undefined;
  readonly dlqTopic: string;
  readonly logger: KafkaBusLogger;
  readonly shutdownTimeoutMs: number;
  readonly sessionTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly commitIntervalMs: number;
  readonly joinTimeoutMs: number;
  readonly staticMemberName: string | undefined;
}

export const DEFAULT_PARTITIONS = 8;

const silent: KafkaBusLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

export function resolveOptions(options: KafkaBusOptions): ResolvedOptions {
  if (options.brokers.length === 0)
    throw new TypeError('createKafkaBus: brokers must name at least one broker (host:port)');
  const partitions = options.partitions;
  const sessionTimeoutMs = options.sessionTimeoutMs ?? 30_000;
  const partitionsOf =
    typeof partitions === 'number' ? () => partitions : (topic: string) => partitions?.[topic] ?? DEFAULT_PARTITIONS;
  return {
    brokers: [...options.brokers],
    clientId: options.clientId,
    partitionsOf,
    replicationFactor: options.replicationFactor,
    dlqTopic: options.dlqTopic ?? Topics.deadLetters,
    logger: options.logger ?? silent,
    shutdownTimeoutMs: options.shutdownTimeoutMs ?? 30_000,
    sessionTimeoutMs,
    heartbeatIntervalMs: options.heartbeatIntervalMs ?? Math.min(1_000, Math.floor(sessionTimeoutMs / 3)),
    commitIntervalMs: options.commitIntervalMs ?? 100,
    joinTimeoutMs: options.joinTimeoutMs ?? 60_000,
    staticMemberName: checkedMemberName(options.staticMemberName),
  };
}

const MEMBER_NAME = /^[A-Za-z0-9._-]{1,200}$/;

function checkedMemberName(name: string | undefined): string | undefined {
  if (name === undefined || MEMBER_NAME.test(name)) return name;
  throw new TypeError(
    `createKafkaBus: staticMemberName must be 1 to 200 letters, digits, dots, dashes or underscores; got ${JSON.stringify(name)}`,
  );
}
