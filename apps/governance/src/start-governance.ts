import { hostname } from 'node:os';
import type { INestMicroservice } from '@nestjs/common';
import { Topics } from '@orchestron/bus';
import type { MessageBus } from '@orchestron/bus';
import { BusTransport, createBusMicroservice } from '@orchestron/nest-transport';
import { silentLogger, systemClock } from '@orchestron/runtime';
import type { Clock, Logger } from '@orchestron/runtime';
import type { Metrics } from '@orchestron/telemetry';
import { GovernanceModule } from './governance.module.ts';
import { PolicyStore } from './policy-store.ts';
import type { PolicyReload } from './policy-store.ts';

export const DEFAULT_GOVERNANCE_GROUP = Topics.group('orchestron-governance');

export interface GovernanceKafkaOptions {
  readonly brokers: readonly string[];
  /** Partitions of the topics the bus creates. Default 3. */
  readonly partitions?: number;
  readonly sessionTimeoutMs?: number;
}

export interface GovernanceServiceOptions {
  /** A directory of `*.cedar` files, watched for changes. */
  readonly policiesDir: string;
  /** The bus to use; it stays open when the service closes. Without one, a Kafka bus is created (and closed). */
  readonly bus?: MessageBus;
  /** For the Kafka bus created when `bus` is not given. Default brokers 127.0.0.1:9092. */
  readonly kafka?: GovernanceKafkaOptions;
  /** Recorded as `decidedBy`. Default `governance-<host>-<pid>`. */
  readonly instance?: string;
  /**
   * How long an orchestrator may apply an allow that holds for every run of a step to that step's later requests
   * without asking (ADR 40). Default DEFAULT_STANDING_MS; 0 turns standing rulings off.
   */
  readonly standingMs?: number;
  /** Instances of one group share the requests. Default `orchestron-governance`. */
  readonly group?: string;
  /** Requests handled at once by this instance. Default 64: decisions are independent, and each waits mostly on its publish. */
  readonly concurrency?: number;
  readonly logger?: Logger;
  /** Decisions counted by outcome and policy (`orchestron_governance_decisions_total`). */
  readonly metrics?: Metrics;
  readonly clock?: Clock;
  /** Reload the policies when the directory changes. Default true. */
  readonly watchPolicies?: boolean;
  readonly reloadDebounceMs?: number;
  readonly onPolicyReload?: (reload: PolicyReload) => void;
}

export interface GovernanceServiceHandle {
  readonly instance: string;
  readonly group: string;
  readonly policiesDir: string;
  /** The ids of the policies in force, in load order. */
  policyIds(): readonly string[];
  /** Reloads the policies now (as a change to the directory does); false when the new set did not compile. */
  reloadPolicies(): boolean;
  /** Stops consuming (waiting for decisions in flight), stops watching, and closes the bus if it created it. */
  close(): Promise<void>;
}

/**
 * Starts the governance-check service in this process: a Nest microservice on the bus that answers
 * `orchestron.governance.requests` with decisions on `orchestron.governance.decisions`. Resolves once it
 * is subscribed; rejects (having released what it opened) when the policies do not compile or the bus
 * cannot be reached.
 */
export async function startGovernanceService(options: GovernanceServiceOptions): Promise<GovernanceServiceHandle> {
  const logger = options.logger ?? silentLogger;
  const instance = options.instance ?? `governance-${hostname()}-${process.pid}`;
  const group = options.group ?? DEFAULT_GOVERNANCE_GROUP;
  const policies = new PolicyStore({
    dir: options.policiesDir,
    logger,
    debounceMs: options.reloadDebounceMs,
    onReload: options.onPolicyReload,
  });
  const ownedBus = options.bus === undefined ? await openKafkaBus(options.kafka, instance, logger) : undefined;
  const bus = options.bus ?? (ownedBus as MessageBus);
  let app: INestMicroservice | undefined;
  try {
    const transport = new BusTransport({
      bus,
      group,
      concurrency: options.concurrency ?? 64,
      // Each request is decided on its own: a run's requests (a fan-out's steps) need no order among them (ADR 44).
      unorderedTopics: [Topics.governanceRequests],
      onError: (error, message) => {
        logger.error('governance request not decided; it goes to the dead-letter topic', {
          topic: message.topic,
          key: message.key,
          partition: message.partition,
          offset: message.offset,
          error: describe(error),
        });
      },
    });
    const settings = { instance, clock: options.clock ?? systemClock, standingMs: standingMsOf(options.standingMs) };
    app = await createBusMicroservice(
      GovernanceModule.with({ bus, policies, settings, logger, metrics: options.metrics ?? null }),
      transport,
    );
    await app.listen();
    if (options.watchPolicies ?? true) policies.watch();
  } catch (error) {
    await app?.close().catch(() => undefined);
    policies.close();
    await ownedBus?.close().catch(() => undefined);
    throw error;
  }
  logger.info('governance service started', {
    instance,
    group,
    policiesDir: policies.dir,
    policies: policies.policyIds(),
  });
  let closing: Promise<void> | undefined;
  const started = app;
  return {
    instance,
    group,
    policiesDir: policies.dir,
    policyIds: () => policies.policyIds(),
    reloadPolicies: () => policies.reload(),
    close() {
      closing ??= (async () => {
        policies.close();
        await started.close();
        await ownedBus?.close();
        logger.info('governance service stopped', { instance });
      })();
      return closing;
    },
  };
}

/** A policy change reaches the steps a standing ruling covers within this long (ADR 40). */
export const DEFAULT_STANDING_MS = 5_000;
/** The longest an orchestrator applies a standing ruling: the message schema refuses more. */
export const MAX_STANDING_MS = 60_000;

function standingMsOf(ms: number | undefined): number {
  const value = ms ?? DEFAULT_STANDING_MS;
  if (!Number.isInteger(value) || value < 0 || value > MAX_STANDING_MS)
    throw new RangeError(`standingMs must be an integer from 0 to ${MAX_STANDING_MS}, got ${String(ms)}`);
  return value;
}

async function openKafkaBus(
  kafka: GovernanceKafkaOptions | undefined,
  instance: string,
  logger: Logger,
): Promise<MessageBus> {
  // Loaded only when needed, so a service given a bus does not load a Kafka client.
  const { createKafkaBus } = await import('@orchestron/bus-kafka');
  const bus = createKafkaBus({
    brokers: kafka?.brokers ?? ['127.0.0.1:9092'],
    clientId: `orchestron-${instance}`,
    partitions: kafka?.partitions ?? 3,
    ...(kafka?.sessionTimeoutMs === undefined ? {} : { sessionTimeoutMs: kafka.sessionTimeoutMs }),
    logger,
  });
  try {
    await bus.ensureTopics([Topics.governanceRequests, Topics.governanceDecisions, Topics.deadLetters]);
  } catch (error) {
    await bus.close().catch(() => undefined);
    throw error;
  }
  return bus;
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
