import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDefinitionText } from '@orchestron/definitions';
import type { EventStore } from '@orchestron/event-store';
import type { MessageBus } from '@orchestron/bus';
import { RemoteRuns, startAuditIndexer } from '@orchestron/runtime';
import type { AuditIndexer, Logger } from '@orchestron/runtime';
import { openBus, openStore } from '@orchestron/tiers';
import type { TierConfig } from '@orchestron/tiers';

export interface ApiModeOptions {
  readonly tiers: TierConfig;
  readonly dataDir: string;
  readonly examplesDir?: string;
  readonly logger: Logger;
}

export interface ApiMode {
  readonly runs: RemoteRuns;
  readonly store: EventStore;
  /** The bus to the orchestrator services (the dead-letter log follows it). */
  readonly bus: MessageBus;
  readonly definitions: string[];
  /** Keeps the store's audit index (GET /v1/audit/events) up with the log; null when the store keeps none. */
  readonly auditIndexer: AuditIndexer | null;
  close(): Promise<void>;
}

/**
 * The API alone (production tier): reads from the event store, sends starts and operator commands to the
 * orchestrator services over the bus. No engine, governance or worker runs in this process.
 */
export async function startApiMode(options: ApiModeOptions): Promise<ApiMode> {
  if (options.tiers.bus !== 'kafka')
    throw new Error(
      'ORCHESTRON_MODE=api needs ORCHESTRON_BUS=kafka: the orchestrators it talks to run in other processes',
    );
  const store = await openStore(options.tiers, options.dataDir);
  const bus = await openBus(options.tiers, options.logger, [], { clientId: 'orchestron-api' });
  const runs = new RemoteRuns({ store, bus, logger: options.logger });
  await runs.start();
  // Every API process may run it: they put the same entries.
  const auditIndexer = startAuditIndexer({ store, logger: options.logger });
  const definitions: string[] = [];
  if (options.examplesDir && existsSync(options.examplesDir)) {
    for (const file of readdirSync(options.examplesDir)
      .filter((f) => /\.(ya?ml|json)$/.test(f))
      .sort()) {
      const { definition } = await runs.definitions.register(
        parseDefinitionText(readFileSync(join(options.examplesDir, file), 'utf8'), file),
        'system:examples',
      );
      definitions.push(`${definition.id} v${definition.version}`);
    }
  }
  return {
    runs,
    store,
    bus,
    definitions,
    auditIndexer,
    async close() {
      await auditIndexer?.close();
      await runs.stop();
      await bus.close();
      await store.close();
    },
  };
}
