import { createExampleWorkers } from '@orchestron/example-workers';
import type { MessageBus } from '@orchestron/bus';
import type { Logger } from '@orchestron/runtime';
import type { IdempotencyLedger } from '@orchestron/worker-sdk';

export interface WorkerServiceOptions {
  /** The bus the workers take commands from and report on; the service does not close it. */
  readonly bus: MessageBus;
  /** Shared with every other instance of these workers; the service does not close it. */
  readonly ledger: IdempotencyLedger;
  /** Example worker names (see EXAMPLE_WORKER_NAMES in @orchestron/example-workers). */
  readonly workers: readonly string[];
  /** This process among the instances of each worker name. */
  readonly instance: string;
  /** Work time of each example step, in ms (default 50). */
  readonly workMs?: number;
  /** How long close() lets running steps finish before aborting them (default 10 s). */
  readonly shutdownGraceMs?: number;
  readonly concurrency?: number;
  /** When each attempt reports step.started (see WorkerOptions.reportStartedAfterMs; default at once). */
  readonly reportStartedAfterMs?: number;
  readonly logger?: Logger;
}

export interface WorkerService {
  readonly workers: readonly string[];
  readonly instance: string;
  /** Stops taking commands and lets running steps finish (up to the grace period); the bus and ledger stay open. */
  close(): Promise<void>;
}

/** Starts the named example workers on the given bus and ledger; when one cannot start, stops the others and throws. */
export async function startWorkerService(options: WorkerServiceOptions): Promise<WorkerService> {
  if (options.workers.length === 0) throw new TypeError('startWorkerService: workers must name at least one worker');
  const logger = options.logger;
  const workers = createExampleWorkers({
    bus: options.bus,
    ledger: options.ledger,
    workers: options.workers,
    instance: options.instance,
    ...(options.workMs !== undefined ? { workMs: options.workMs } : {}),
    ...(options.shutdownGraceMs !== undefined ? { shutdownGraceMs: options.shutdownGraceMs } : {}),
    ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
    ...(options.reportStartedAfterMs !== undefined ? { reportStartedAfterMs: options.reportStartedAfterMs } : {}),
    ...(logger ? { logger } : {}),
  });
  // Together: each one joins its own consumer group, which takes about a heartbeat interval on Kafka. If one
  // fails, every other is stopped once its own start has settled, so no consumer outlives the failure.
  const starts = await Promise.allSettled(workers.map((worker) => worker.start()));
  const failure = starts.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) {
    await Promise.allSettled(workers.map((worker) => worker.stop()));
    throw failure.reason;
  }
  logger?.info('workers started', { workers: options.workers, instance: options.instance });
  let closing: Promise<void> | undefined;
  return {
    workers: [...options.workers],
    instance: options.instance,
    close() {
      closing ??= (async () => {
        const results = await Promise.allSettled(workers.map((worker) => worker.stop()));
        const failed = results.flatMap((r, i) =>
          r.status === 'rejected' ? [`${workers[i]?.name}: ${String(r.reason)}`] : [],
        );
        if (failed.length > 0) throw new Error(`workers did not stop cleanly: ${failed.join('; ')}`);
        logger?.info('workers stopped', { workers: options.workers, instance: options.instance });
      })();
      return closing;
    },
  };
}
