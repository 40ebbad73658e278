import type { INestMicroservice } from '@nestjs/common';
import { Topics } from '@orchestron/bus';
import type { MessageBus, PartitionLag } from '@orchestron/bus';
import type { EventStore } from '@orchestron/event-store';
import { BusTransport, createBusMicroservice } from '@orchestron/nest-transport';
import { Engine, flowMetricsObserver, metricsObserver, runMetricsSource, silentLogger } from '@orchestron/runtime';
import type { Clock, FlowControlSettings, Logger } from '@orchestron/runtime';
import type { Metrics, MetricsSource } from '@orchestron/telemetry';
import { OrchestratorModule } from './orchestrator.module.ts';

export const DEFAULT_ORCHESTRATOR_GROUP = Topics.group('orchestron-orchestrator');

/** Consumer lag per owned partition; partitions this instance gave up are reset so they stop showing stale lag. */
function lagMetrics(metrics: Metrics, group: string): (lag: readonly PartitionLag[]) => void {
  return (lag) => {
    metrics.consumerLag.reset();
    for (const entry of lag)
      metrics.consumerLag.set({ group, topic: entry.topic, partition: String(entry.partition) }, entry.lag);
  };
}

export interface OrchestratorOptions {
  readonly store: EventStore;
  readonly bus: MessageBus;
  /** Recorded on every event this instance appends (`metadata.instance`) and in its logs. */
  readonly instance: string;
  /** Instances of one group share the partitions, and so the runs. Default `orchestron-orchestrator`. */
  readonly group?: string;
  /** Messages handled at once (one at a time per run). Default 64. */
  readonly concurrency?: number;
  readonly logger?: Logger;
  readonly metrics?: Metrics;
  readonly clock?: Clock;
  /** Circuit breakers and concurrency limits per worker name. */
  readonly flowControl?: FlowControlSettings;
  /** How long an event no step waits for is kept (ORCHESTRON_EVENT_BUFFER). */
  readonly eventBufferMs?: number;
}

export interface OrchestratorHandle {
  readonly engine: Engine;
  /** The metrics with the run counts brought up to date on each render. */
  readonly metrics: MetricsSource | null;
  /** Stops consuming (handlers in flight finish), then the engine's timers and subscriptions. Store and bus stay open. */
  close(): Promise<void>;
}

/**
 * One orchestrator instance: the engine behind a Nest microservice on the bus. It consumes workflow starts, step
 * reports, operator commands, governance decisions and external events in one consumer group; the partitions the group gives it
 * decide which runs it owns (their timers, their recovery). Governance goes to the governance service over the bus.
 */
export async function startOrchestrator(options: OrchestratorOptions): Promise<OrchestratorHandle> {
  const logger = options.logger ?? silentLogger;
  const group = options.group ?? DEFAULT_ORCHESTRATOR_GROUP;
  const engine = new Engine({
    store: options.store,
    bus: options.bus,
    governance: 'bus',
    consume: false,
    group,
    logger,
    metadata: { instance: options.instance },
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.metrics
      ? { observer: metricsObserver(options.metrics), onFlowChange: flowMetricsObserver(options.metrics) }
      : {}),
    ...(options.flowControl ? { flowControl: options.flowControl } : {}),
    ...(options.eventBufferMs !== undefined ? { eventBufferMs: options.eventBufferMs } : {}),
  });
  await engine.start();
  const transport = new BusTransport({
    bus: options.bus,
    group,
    concurrency: options.concurrency ?? 64,
    unorderedTopics: engine.unorderedTopics,
    onAssigned: (partitions) => void engine.assign(partitions),
    ...(options.metrics ? { onLag: lagMetrics(options.metrics, group) } : {}),
    onError: (error, message) =>
      logger.error('message dead-lettered', {
        topic: message.topic,
        key: message.key,
        partition: message.partition,
        offset: message.offset,
        error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      }),
  });
  let app: INestMicroservice | undefined;
  try {
    app = await createBusMicroservice(OrchestratorModule.with({ engine, metrics: options.metrics ?? null }), transport);
    await app.listen();
  } catch (error) {
    await app?.close().catch(() => undefined);
    await engine.stop();
    throw error;
  }
  const { metrics } = options;
  return {
    engine,
    metrics: metrics ? runMetricsSource(engine, metrics) : null,
    async close() {
      await app?.close();
      await engine.stop();
    },
  };
}
