import { Topics } from '@orchestron/bus';
import { createKafkaBus } from '@orchestron/bus-kafka';
import { PostgresLedger } from '@orchestron/example-workers';
import { createLogger, runServiceMain, startTracing } from '@orchestron/telemetry';
import { ConfigError, HELP, readConfig } from './config.ts';
import { startWorkerService } from './service.ts';

await runServiceMain({
  name: 'orchestron-workers',
  help: HELP,
  options: { worker: { type: 'string', short: 'w', multiple: true }, instance: { type: 'string', short: 'i' } },
  isUsageError: (error) => error instanceof ConfigError,
  async start(_values, args) {
    const config = readConfig(args, process.env);
    if (config.help) throw new Error('--help is answered before start');
    const logger = createLogger({ service: 'orchestron-workers', instance: config.instance });
    const tracing = startTracing({ serviceName: 'orchestron-workers', serviceInstance: config.instance, logger });
    const ledger = await PostgresLedger.open({
      url: config.pgUrl,
      schema: config.pgSchema,
      poolSize: config.pgPoolSize,
      onPoolError: (error) => logger.warn('idle PostgreSQL connection failed', { error: error.message }),
    });
    const bus = createKafkaBus({
      brokers: config.kafkaBrokers,
      clientId: `orchestron-workers-${config.instance}`,
      partitions: config.kafkaPartitions,
      sessionTimeoutMs: config.kafkaSessionTimeoutMs,
      logger,
      // The workers abort what still runs after their own grace period; the subscription then only has to see them out.
      shutdownTimeoutMs: config.shutdownGraceMs + 5_000,
    });
    let service;
    try {
      await bus.ensureTopics([Topics.stepEvents, Topics.deadLetters, ...config.workers.map(Topics.commands)]);
      service = await startWorkerService({
        bus,
        ledger,
        workers: config.workers,
        instance: config.instance,
        workMs: config.workMs,
        shutdownGraceMs: config.shutdownGraceMs,
        reportStartedAfterMs: config.reportStartedAfterMs,
        logger,
      });
    } catch (error) {
      await bus.close().catch(() => undefined);
      await ledger.close().catch(() => undefined);
      throw error;
    }
    process.stdout.write(
      `Orchestron workers ready: ${config.workers.join(', ')} (instance ${config.instance}; Kafka ${config.kafkaBrokers.join(',')}; ledger schema ${config.pgSchema}${tracing.exporting ? '; tracing on' : ''})\n`,
    );
    return {
      logger,
      async close() {
        logger.info('letting running steps finish', { graceMs: config.shutdownGraceMs });
        await service.close();
        await bus.close();
        await ledger.close();
        await tracing.shutdown();
      },
    };
  },
});
