import { join } from 'node:path';
import { createInMemoryBus, Topics } from '@orchestron/bus';
import type { MessageBus } from '@orchestron/bus';
import type { EventStore } from '@orchestron/event-store';
import type { Logger } from '@orchestron/runtime';
import { kafkaSettings, postgresSettings, SettingError } from './settings.ts';

export type StoreKind = 'embedded' | 'postgres' | 'kurrentdb';
export type BusKind = 'memory' | 'kafka';

export interface TierConfig {
  readonly store: StoreKind;
  readonly bus: BusKind;
  readonly pgUrl: string;
  readonly pgSchema: string;
  /** Connections to PostgreSQL this process may hold (ORCHESTRON_PG_POOL_SIZE, default 10). */
  readonly pgPoolSize: number;
  readonly kafkaBrokers: readonly string[];
  readonly kafkaPartitions: number;
  /** How soon a dead orchestrator or worker loses its partitions; the broker's minimum is 6 s. */
  readonly kafkaSessionTimeoutMs: number;
  readonly esdbUrl: string | null;
}

const STORES: readonly StoreKind[] = ['embedded', 'postgres', 'kurrentdb'];
const BUSES: readonly BusKind[] = ['memory', 'kafka'];

/** Reads ORCHESTRON_STORE / ORCHESTRON_BUS and their connection settings; a bad value names the variable. */
export function tierConfig(env: Readonly<Record<string, string | undefined>>): TierConfig {
  const store = (env.ORCHESTRON_STORE ?? 'embedded') as StoreKind;
  if (!STORES.includes(store))
    throw new SettingError(
      `ORCHESTRON_STORE must be one of ${STORES.join(', ')}, got ${JSON.stringify(env.ORCHESTRON_STORE)}`,
    );
  const bus = (env.ORCHESTRON_BUS ?? 'memory') as BusKind;
  if (!BUSES.includes(bus))
    throw new SettingError(
      `ORCHESTRON_BUS must be one of ${BUSES.join(', ')}, got ${JSON.stringify(env.ORCHESTRON_BUS)}`,
    );
  const kafka = kafkaSettings(env);
  const pg = postgresSettings(env);
  const esdbUrl = env.ORCHESTRON_ESDB_URL ?? null;
  if (store === 'kurrentdb' && !esdbUrl)
    throw new SettingError(
      'ORCHESTRON_STORE=kurrentdb needs ORCHESTRON_ESDB_URL (e.g. kurrentdb://127.0.0.1:2113?tls=false)',
    );
  return {
    store,
    bus,
    pgUrl: pg.url,
    pgSchema: pg.schema,
    pgPoolSize: pg.poolSize,
    kafkaBrokers: kafka.brokers,
    kafkaPartitions: kafka.partitions,
    kafkaSessionTimeoutMs: kafka.sessionTimeoutMs,
    esdbUrl,
  };
}

/** The store the configuration names. Adapters load only when chosen, so the embedded tier needs no server. */
export async function openStore(config: TierConfig, dataDir: string): Promise<EventStore> {
  switch (config.store) {
    case 'embedded': {
      const { createSqliteEventStore } = await import('@orchestron/store-sqlite');
      return createSqliteEventStore({ path: join(dataDir, 'events.sqlite') });
    }
    case 'postgres': {
      const { createPostgresEventStore } = await import('@orchestron/store-postgres');
      return createPostgresEventStore({ url: config.pgUrl, schema: config.pgSchema, poolSize: config.pgPoolSize });
    }
    case 'kurrentdb': {
      // Not yet run against a real server in this project: see docs/kurrentdb.md.
      const { createKurrentDbEventStore } = await import('@orchestron/store-kurrentdb');
      return createKurrentDbEventStore({ connectionString: config.esdbUrl as string });
    }
  }
}

/** Every topic Orchestron itself reads or writes, but the per-worker command topics. */
export const ALL_TOPICS: readonly string[] = [
  Topics.workflowStarts,
  Topics.stepEvents,
  Topics.governanceRequests,
  Topics.governanceDecisions,
  Topics.operatorCommands,
  Topics.externalEvents,
  Topics.deadLetters,
];

export interface OpenBusOptions {
  /** Kafka client id: names the service in the broker's logs. Default `orchestron`. */
  readonly clientId?: string;
  /** This process's static member name in its consumer groups (see `KafkaBusOptions.staticMemberName`). */
  readonly staticMemberName?: string;
}

export async function openBus(
  config: TierConfig,
  logger: Logger,
  workers: readonly string[],
  options: OpenBusOptions = {},
): Promise<MessageBus> {
  switch (config.bus) {
    case 'memory':
      return createInMemoryBus();
    case 'kafka': {
      const { createKafkaBus } = await import('@orchestron/bus-kafka');
      const bus = createKafkaBus({
        brokers: config.kafkaBrokers,
        clientId: options.clientId ?? 'orchestron',
        partitions: config.kafkaPartitions,
        sessionTimeoutMs: config.kafkaSessionTimeoutMs,
        logger,
        ...(options.staticMemberName !== undefined ? { staticMemberName: options.staticMemberName } : {}),
      });
      await bus.ensureTopics([...ALL_TOPICS, ...workers.map(Topics.commands)]);
      return bus;
    }
  }
}
