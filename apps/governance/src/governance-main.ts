import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInMemoryBus } from '@orchestron/bus';
import type { MessageBus } from '@orchestron/bus';
import { createLogger, createMetrics, runServiceMain, serveMetrics, startTracing } from '@orchestron/telemetry';
import { governanceConfig } from './governance.config.ts';
import { DEFAULT_GOVERNANCE_GROUP, startGovernanceService } from './start-governance.ts';

const HELP = `orchestron governance — answers governance requests with Cedar policy decisions

Usage: node apps/governance/src/main.ts [--help]

Reads orchestron.governance.requests, evaluates each side-effecting step against the Cedar policies,
and publishes the decision (allow | deny | require_approval) on orchestron.governance.decisions.
Run as many instances as you like: they share the requests as one consumer group.

Environment:
  ORCHESTRON_POLICIES          directory of *.cedar policies, reloaded when it changes (default <repo>/examples/policies);
                               SIGHUP reloads it too
  ORCHESTRON_BUS               kafka (default) | memory (in-process: only useful in tests)
  ORCHESTRON_KAFKA_BROKERS     comma-separated host:port (default 127.0.0.1:9092)
  ORCHESTRON_KAFKA_PARTITIONS  partitions of the topics it creates (default 3)
  ORCHESTRON_KAFKA_SESSION_TIMEOUT_MS  how soon a dead instance loses its partitions (default 30000)
  ORCHESTRON_GOVERNANCE_GROUP  consumer group (default ${DEFAULT_GOVERNANCE_GROUP})
  ORCHESTRON_INSTANCE          name recorded as decidedBy on each decision (default governance-<host>-<pid>)
  ORCHESTRON_METRICS_PORT      serve GET /metrics and /healthz on 127.0.0.1:<port> (default: off)
  OTEL_EXPORTER_OTLP_ENDPOINT  export trace spans over OTLP/HTTP (e.g. http://127.0.0.1:4318); unset: none

Logs are JSON lines on stderr; stdout gets one line once the service is ready.
`;

await runServiceMain({
  name: 'orchestron governance',
  help: HELP,
  async start() {
    const root = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
    const config = governanceConfig(process.env, root);
    const logger = createLogger({ service: 'orchestron-governance', instance: config.instance });
    const tracing = startTracing({ serviceName: 'orchestron-governance', serviceInstance: config.instance, logger });
    let bus: MessageBus | undefined;
    if (config.busKind === 'memory') {
      logger.warn('ORCHESTRON_BUS=memory: no other process can reach this bus, so no request will arrive from outside');
      bus = createInMemoryBus();
    }
    const metrics = createMetrics({ service: 'orchestron-governance' });
    const service = await startGovernanceService({ ...config, ...(bus === undefined ? {} : { bus }), logger, metrics });
    const metricsPort = process.env.ORCHESTRON_METRICS_PORT;
    const metricsServer =
      metricsPort === undefined || metricsPort === ''
        ? null
        : await serveMetrics({ port: Number(metricsPort), metrics });
    const ids = service.policyIds();
    process.stdout.write(
      `governance ready: ${ids.length} ${ids.length === 1 ? 'policy' : 'policies'} (${ids.join(', ')}) from ${service.policiesDir}${metricsServer ? `; metrics ${metricsServer.url}/metrics` : ''}\n`,
    );

    // The in-memory bus holds no socket, so nothing else would keep the process up until a signal.
    const keepAlive = setInterval(() => undefined, 60_000);
    process.on('SIGHUP', () => {
      service.reloadPolicies();
    });
    return {
      logger,
      async close() {
        clearInterval(keepAlive);
        await service.close();
        await metricsServer?.close();
        await bus?.close();
        await tracing.shutdown();
      },
    };
  },
});
