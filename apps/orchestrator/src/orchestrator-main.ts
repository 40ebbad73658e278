import { resolve } from 'node:path';
import { flowControlFromEnv } from '@orchestron/runtime';
import { createLogger, createMetrics, runServiceMain, serveMetrics, startTracing } from '@orchestron/telemetry';
import { eventBufferSetting, openBus, openStore, tierConfig } from '@orchestron/tiers';
import { awaitInstanceName, holdInstanceName, standbySetting, staticMemberSetting } from './instance-name.ts';
import type { HeldName } from './instance-name.ts';
import { DEFAULT_ORCHESTRATOR_GROUP, startOrchestrator } from './start-orchestrator.ts';

const HELP = `orchestron orchestrator — folds step reports into runs and dispatches the next steps

Usage: node apps/orchestrator/src/main.ts [--help]

Consumes orchestron.workflow.starts, orchestron.step.events, orchestron.operator.commands and
orchestron.governance.decisions as one consumer group, appends each decision to the run's stream, then
sends step commands to orchestron.commands.<worker> and governance requests to orchestron.governance.requests.
Run several instances: the group splits the partitions, and each instance owns the timers of its runs.
It also fires the schedules whose key (schedule/<tenant>/<id>) falls on its partitions (docs/schedules.md).

Environment:
  ORCHESTRON_INSTANCE          name of this instance, recorded on the events it appends (default orchestrator-<pid>)
  ORCHESTRON_ORCHESTRATOR_GROUP  consumer group (default ${DEFAULT_ORCHESTRATOR_GROUP})
  ORCHESTRON_METRICS_PORT      serve GET /metrics and /healthz on 127.0.0.1:<port> (default: off; 0 picks one)
  ORCHESTRON_STORE             postgres (default here) | kurrentdb | embedded (one process only)
  ORCHESTRON_PG_URL            PostgreSQL URL (default postgres://postgres@127.0.0.1:5432/test)
  ORCHESTRON_PG_SCHEMA         PostgreSQL schema (default orchestron)
  ORCHESTRON_PG_POOL_SIZE      connections to PostgreSQL this process may hold (default 10)
  ORCHESTRON_BUS               kafka (default here) | memory
  ORCHESTRON_KAFKA_BROKERS     comma-separated host:port (default 127.0.0.1:9092)
  ORCHESTRON_KAFKA_PARTITIONS  partitions of the topics it creates (default 3)
  ORCHESTRON_KAFKA_SESSION_TIMEOUT_MS  how soon a dead instance loses its partitions (default 30000)
  ORCHESTRON_KAFKA_STATIC_MEMBER  1: join the group under ORCHESTRON_INSTANCE (Kafka static membership), so a
                               replacement started under the same name after a crash takes the partitions back at
                               once, not after the session timeout. Needs ORCHESTRON_INSTANCE and the postgres store,
                               where the name is held while the process lives: a second live process under it refuses
                               to start (default 0)
  ORCHESTRON_STANDBY           1: a warm standby for the instance ORCHESTRON_INSTANCE names (needs
                               ORCHESTRON_KAFKA_STATIC_MEMBER=1). It loads its code, opens the bus and prints
                               "standing by"; when the process running under that name dies or stops, it takes the
                               name and the partitions within 50 ms, its start-up already done (default 0)
  ORCHESTRON_DATA              data directory for ORCHESTRON_STORE=embedded (default ./.orchestron)
  ORCHESTRON_FLOW_CONTROL      circuit breakers, concurrency limits and rates per worker name, as JSON, e.g.
                               {"defaults":{"failureThreshold":10,"openMs":5000},"workers":{"payments":{"concurrency":4,"rate":10,"burst":2}}}
                               (defaults: 10 consecutive retryable failures open a breaker for 5 s; no limit, no rate;
                               rate is attempts/s per orchestrator instance)
  ORCHESTRON_EVENT_BUFFER      how long an event no step waits for yet is kept for one that will (default 24h;
                               a duration such as 15m, 24h or 7d, at most 30d)
  OTEL_EXPORTER_OTLP_ENDPOINT  export trace spans over OTLP/HTTP (e.g. http://127.0.0.1:4318); unset: none

Logs are JSON lines on stderr; stdout gets one line once the instance is consuming.
`;

await runServiceMain({
  name: 'orchestron orchestrator',
  help: HELP,
  async start() {
    const instance = process.env.ORCHESTRON_INSTANCE ?? `orchestrator-${process.pid}`;
    const tiers = tierConfig({ ORCHESTRON_STORE: 'postgres', ORCHESTRON_BUS: 'kafka', ...process.env });
    const logger = createLogger({ service: 'orchestron-orchestrator', instance });
    const tracing = startTracing({ serviceName: 'orchestron-orchestrator', serviceInstance: instance });
    const metrics = createMetrics({ service: 'orchestron-orchestrator' });
    const staticMember = staticMemberSetting(process.env, tiers);
    const standby = standbySetting(process.env, staticMember);
    const took = startTimer();
    const openBusHere = () =>
      openBus(tiers, logger, [], {
        clientId: instance,
        ...(staticMember !== null ? { staticMemberName: staticMember } : {}),
      });
    let held: HeldName | null = null;
    let bus: Awaited<ReturnType<typeof openBus>> | undefined;
    if (standby && staticMember !== null) {
      // Everything that takes time and holds no partition first; the store's read side is opened once the name is ours.
      bus = await openBusHere();
      took('bus');
      process.stdout.write(`orchestrator ${instance} standing by (for the process running as ${instance})\n`);
      logger.info('standing by', { instance });
      held = await awaitInstanceName(tiers, staticMember, logger);
      took('standby');
    } else if (staticMember !== null) {
      held = await holdInstanceName(tiers, staticMember, logger);
      took('name');
    }
    const store = await openStore(tiers, resolve(process.env.ORCHESTRON_DATA ?? '.orchestron'));
    took('store');
    if (bus === undefined) {
      bus = await openBusHere();
      took('bus');
    }
    const flowControl = flowControlFromEnv(process.env.ORCHESTRON_FLOW_CONTROL);
    const orchestrator = await startOrchestrator({
      store,
      bus,
      instance,
      logger,
      metrics,
      flowControl,
      eventBufferMs: eventBufferSetting(process.env),
      ...(process.env.ORCHESTRON_ORCHESTRATOR_GROUP ? { group: process.env.ORCHESTRON_ORCHESTRATOR_GROUP } : {}),
    });
    took('engine');
    // Where a start's time went, for a restart that is slow to take its partitions back.
    logger.info('orchestrator started', { ms: took.phases(), uptimeMs: Math.round(process.uptime() * 1000) });
    const metricsPort = process.env.ORCHESTRON_METRICS_PORT;
    const server =
      metricsPort === undefined || metricsPort === ''
        ? null
        : await serveMetrics({ port: parsePort(metricsPort), metrics: orchestrator.metrics ?? metrics });
    process.stdout.write(
      `orchestrator ${instance} ready (store ${tiers.store}, bus ${tiers.bus}${server ? `, metrics ${server.url}/metrics` : ''}${tracing.exporting ? ', tracing on' : ''})\n`,
    );
    return {
      logger,
      async close() {
        await orchestrator.close();
        await server?.close();
        await bus.close();
        await store.close();
        await held?.release();
        await tracing.shutdown();
      },
    };
  },
});

function parsePort(text: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`ORCHESTRON_METRICS_PORT must be a port number, got ${JSON.stringify(text)}`);
  return port;
}

/** Milliseconds each named phase took, each from the end of the one before. */
function startTimer(): ((phase: string) => void) & { phases(): Record<string, number> } {
  const phases: Record<string, number> = {};
  let last = performance.now();
  const took = (phase: string): void => {
    const now = performance.now();
    phases[phase] = Math.round(now - last);
    last = now;
  };
  return Object.assign(took, { phases: () => ({ ...phases }) });
}
