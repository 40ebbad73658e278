import { formatDuration, parseDuration } from '@orchestron/definitions';
// From the bus, not the runtime: every service reads its settings here, and a worker should not load the engine.
import { DEFAULT_EVENT_BUFFER_MS } from '@orchestron/bus';

/*
 * The Kafka and PostgreSQL settings every service reads from its environment, read in one place so that the
 * defaults and minimums cannot drift apart between the orchestrator, the server, governance and the workers.
 */

export type Env = Readonly<Record<string, string | undefined>>;

/** A setting that cannot work; the message names the variable. */
export class SettingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SettingError';
  }
}

export interface KafkaSettings {
  readonly brokers: readonly string[];
  /** Partitions of the topics a service creates. */
  readonly partitions: number;
  /** How soon a dead instance loses its partitions. Below the broker's group.min.session.timeout.ms (6 s by default) the broker refuses the join. */
  readonly sessionTimeoutMs: number;
}

export interface PostgresSettings {
  readonly url: string;
  readonly schema: string;
  /** Connections to PostgreSQL this process may hold. */
  readonly poolSize: number;
}

export const KAFKA_DEFAULTS = { brokers: '127.0.0.1:9092', partitions: 3, sessionTimeoutMs: 30_000 } as const;
export const KAFKA_MINIMUMS = { partitions: 1, sessionTimeoutMs: 1000 } as const;
/**
 * The event store holds a connection for appends and one for LISTEN, hence at least 2 and 10 by default. A service
 * with a lighter use (the workers' idempotency ledger) passes its own default; the minimum is the same for all.
 */
export const POSTGRES_DEFAULTS = {
  url: 'postgres://postgres@127.0.0.1:5432/test',
  schema: 'orchestron',
  poolSize: 10,
} as const;
export const POSTGRES_MINIMUMS = { poolSize: 2 } as const;

/** ORCHESTRON_KAFKA_BROKERS, ORCHESTRON_KAFKA_PARTITIONS, ORCHESTRON_KAFKA_SESSION_TIMEOUT_MS. */
export function kafkaSettings(env: Env): KafkaSettings {
  const brokers = (env.ORCHESTRON_KAFKA_BROKERS ?? KAFKA_DEFAULTS.brokers)
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);
  if (brokers.length === 0) throw new SettingError('ORCHESTRON_KAFKA_BROKERS must name at least one host:port');
  return {
    brokers,
    partitions: integerSetting(
      env,
      'ORCHESTRON_KAFKA_PARTITIONS',
      KAFKA_DEFAULTS.partitions,
      KAFKA_MINIMUMS.partitions,
    ),
    sessionTimeoutMs: integerSetting(
      env,
      'ORCHESTRON_KAFKA_SESSION_TIMEOUT_MS',
      KAFKA_DEFAULTS.sessionTimeoutMs,
      KAFKA_MINIMUMS.sessionTimeoutMs,
    ),
  };
}

/** ORCHESTRON_PG_URL, ORCHESTRON_PG_SCHEMA, ORCHESTRON_PG_POOL_SIZE. */
export function postgresSettings(env: Env, defaults: { readonly poolSize?: number } = {}): PostgresSettings {
  return {
    url: env.ORCHESTRON_PG_URL ?? POSTGRES_DEFAULTS.url,
    schema: env.ORCHESTRON_PG_SCHEMA ?? POSTGRES_DEFAULTS.schema,
    poolSize: integerSetting(
      env,
      'ORCHESTRON_PG_POOL_SIZE',
      defaults.poolSize ?? POSTGRES_DEFAULTS.poolSize,
      POSTGRES_MINIMUMS.poolSize,
    ),
  };
}

/** An integer variable of at least `min`; unset or empty gives the fallback. */
export function integerSetting(env: Env, name: string, fallback: number, min: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min)
    throw new SettingError(`${name} must be an integer of at least ${min}, got ${JSON.stringify(raw)}`);
  return value;
}

/** Longest buffer window: an event kept longer is more likely a mistake than a wait worth keeping. */
export const MAX_EVENT_BUFFER_MS = 30 * 86_400_000;

/**
 * ORCHESTRON_EVENT_BUFFER: how long an event no step waits for yet is kept for the first one that will (default 24h),
 * a duration such as 15m, 24h or 7d; 0 is not allowed (an event a moment early would be lost).
 */
export function eventBufferSetting(env: Env): number {
  const raw = env.ORCHESTRON_EVENT_BUFFER;
  if (raw === undefined || raw === '') return DEFAULT_EVENT_BUFFER_MS;
  const ms = parseDuration(raw.trim());
  if (ms === null || ms <= 0 || ms > MAX_EVENT_BUFFER_MS)
    throw new SettingError(
      `ORCHESTRON_EVENT_BUFFER must be a duration such as 15m, 24h or 7d, longer than 0 and at most ${formatDuration(MAX_EVENT_BUFFER_MS)}; got ${JSON.stringify(raw)}`,
    );
  return ms;
}
