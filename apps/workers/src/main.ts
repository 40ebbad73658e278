import { Topics } from '@orchestron/bus';
import { createKafkaBus } from '@orchestron/bus-kafka';
import { PostgresLedger } from '@orchestron/example-workers';
import { createLogger, startTracing } from '@orchestron/telemetry';
import { ConfigError, HELP, readConfig } from './config.ts';
import { startWorkerService } from './service.ts';

async function main(): Promise<void> {
  const parsed = readConfig(process.argv.slice(2), process.env);
  if (parsed.help) {
    process.stdout.write(HELP);
    return;
  }
  const config = parsed;
  const logger = createLogger({ service: 'orchestron-workers', instance: config.instance });
  const tracing = startTracing({ serviceName: 'orchestron-workers', serviceInstance: config.instance, logger });
  const ledger = await PostgresLedger.open({
    url: config.pgUrl, schema: config.pgSchema, poolSize: config.pgPoolSize,
    onPoolError: (error) => logger.warn('idle PostgreSQL connection failed', { error: error.message }),
  });
  const bus = createKafkaBus({
    brokers: config.kafkaBrokers, clientId: `orchestron-workers-${config.instance}`, partitions: config.kafkaPartitions,
    sessionTimeoutMs: config.kafkaSessionTimeoutMs, logger,
    // The workers abort what still runs after their own grace period; the subscription then only has to see them out.
    shutdownTimeoutMs: config.shutdownGraceMs + 5_000,
  });
  let service;
  try {
    await bus.ensureTopics([Topics.stepEvents, Topics.deadLetters, ...config.workers.map(Topics.commands)]);
    service = await startWorkerService({ bus, ledger, workers: config.workers, instance: config.instance, workMs: config.workMs, shutdownGraceMs: config.shutdownGraceMs, logger });
  } catch (error) {
    await bus.close().catch(() => undefined);
    await ledger.close().catch(() => undefined);
    throw error;
  }
  process.stdout.write(`Orchestron workers ready: ${config.workers.join(', ')} (instance ${config.instance}; Kafka ${config.kafkaBrokers.join(',')}; ledger schema ${config.pgSchema}${tracing.exporting ? '; tracing on' : ''})\n`);

  let closing = false;
  const shutdown = (signal: string): void => {
    if (closing) {
      logger.warn('second signal: exiting without waiting for running steps', { signal });
      process.exit(1);
    }
    closing = true;
    logger.info('shutting down', { signal, graceMs: config.shutdownGraceMs });
    void service.close()
      .then(() => bus.close())
      .then(() => ledger.close())
      .then(() => tracing.shutdown())
      .then(() => process.exit(0), (error: unknown) => {
        logger.error('shutdown failed', { error: error instanceof Error ? error.message : String(error) });
        process.exit(1);
      });
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((error: unknown) => {
  process.stderr.write(`orchestron-workers: ${error instanceof Error ? error.message : String(error)}\n`);
  if (error instanceof ConfigError) process.stderr.write('Run with --help for usage.\n');
  process.exit(error instanceof ConfigError ? 2 : 1);
});
