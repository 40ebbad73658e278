import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { parseDefinitionText } from '@orchestron/definitions';
import { createExampleWorkers, EXAMPLE_WORKER_NAMES, SqliteLedger } from '@orchestron/example-workers';
import {
  createPolicyGovernance,
  Engine,
  flowControlFromEnv,
  flowMetricsObserver,
  metricsObserver,
  startAuditIndexer,
} from '@orchestron/runtime';
import type { EventStore } from '@orchestron/event-store';
import type { MessageBus } from '@orchestron/bus';
import type { Metrics } from '@orchestron/telemetry';
import type { AuditIndexer, Logger } from '@orchestron/runtime';
import type { Worker } from '@orchestron/worker-sdk';
import type { ApiKey } from './http/auth.ts';
import { eventBufferSetting } from '@orchestron/tiers';
import { openBus, openStore } from './tiers.ts';
import type { TierConfig } from './tiers.ts';

export interface EmbeddedOptions {
  readonly dataDir: string;
  readonly examplesDir?: string;
  readonly policiesDir?: string;
  readonly logger: Logger;
  /** Work time of the example workers' normal steps, in ms. */
  readonly workMs?: number;
  readonly withWorkers?: boolean;
  /** Which store and bus; default the embedded SQLite store and the in-process bus. */
  readonly tiers?: TierConfig;
  /** Step latency and retries are recorded here. */
  readonly metrics?: Metrics;
}

export interface Embedded {
  readonly engine: Engine;
  /** The event store the engine writes (issued API keys are kept there too). */
  readonly store: EventStore;
  /** The bus the engine and workers share (the dead-letter log follows it). */
  readonly bus: MessageBus;
  readonly ledger: SqliteLedger | null;
  readonly recovered: number;
  readonly definitions: string[];
  /** Keeps the store's audit index (GET /v1/audit/events) up with the log; null when the store keeps none. */
  readonly auditIndexer: AuditIndexer | null;
  close(): Promise<void>;
}

/** One process: the configured event store and bus (SQLite and in-process by default), the orchestrator, governance and the example workers. */
export async function startEmbedded(options: EmbeddedOptions): Promise<Embedded> {
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  const tiers = options.tiers ?? {
    store: 'embedded',
    bus: 'memory',
    pgUrl: '',
    pgSchema: '',
    pgPoolSize: 10,
    kafkaBrokers: [],
    kafkaPartitions: 1,
    kafkaSessionTimeoutMs: 30_000,
    esdbUrl: null,
  };
  const store = await openStore(tiers, options.dataDir);
  const bus = await openBus(tiers, options.logger, EXAMPLE_WORKER_NAMES);
  const policies =
    options.policiesDir && existsSync(options.policiesDir)
      ? readdirSync(options.policiesDir)
          .filter((f) => f.endsWith('.cedar'))
          .sort()
          .map((name) => ({ name, text: readFileSync(join(options.policiesDir as string, name), 'utf8') }))
      : [];
  const governance = createPolicyGovernance(policies);
  const engine = new Engine({
    store,
    bus,
    governance,
    logger: options.logger,
    flowControl: flowControlFromEnv(process.env.ORCHESTRON_FLOW_CONTROL),
    eventBufferMs: eventBufferSetting(process.env),
    ...(options.metrics
      ? { observer: metricsObserver(options.metrics), onFlowChange: flowMetricsObserver(options.metrics) }
      : {}),
  });
  const withWorkers = options.withWorkers ?? true;
  const ledger = withWorkers ? new SqliteLedger(join(options.dataDir, 'worker-ledger.sqlite')) : null;
  const workers: Worker[] = ledger
    ? createExampleWorkers({
        bus,
        ledger,
        logger: options.logger,
        ...(options.workMs !== undefined ? { workMs: options.workMs } : {}),
      })
    : [];
  for (const worker of workers) await worker.start();
  const { recovered } = await engine.start();
  const auditIndexer = startAuditIndexer({ store, logger: options.logger });
  const definitions: string[] = [];
  if (options.examplesDir && existsSync(options.examplesDir)) {
    for (const file of readdirSync(options.examplesDir)
      .filter((f) => /\.(ya?ml|json)$/.test(f))
      .sort()) {
      const { definition } = await engine.definitions.register(
        parseDefinitionText(readFileSync(join(options.examplesDir, file), 'utf8'), file),
        'system:examples',
      );
      definitions.push(`${definition.id} v${definition.version}`);
    }
  }
  options.logger.info('governance policies loaded', { policies: governance.policyIds });
  return {
    engine,
    store,
    bus,
    ledger,
    recovered,
    definitions,
    auditIndexer,
    async close() {
      for (const worker of workers) await worker.stop();
      await engine.stop();
      await auditIndexer?.close();
      await bus.close();
      await store.close();
      ledger?.close();
    },
  };
}

/** Keys from ORCHESTRON_API_KEYS, or else an admin key kept in the data directory (created on first start). */
export function adminKeyFile(dataDir: string): ApiKey {
  const file = join(dataDir, 'admin.key');
  mkdirSync(dataDir, { recursive: true });
  if (!existsSync(file)) {
    writeFileSync(file, `${randomBytes(24).toString('base64url')}\n`, { mode: 0o600 });
    chmodSync(file, 0o600);
  }
  return { key: readFileSync(file, 'utf8').trim(), role: 'admin', name: 'local-admin' };
}
