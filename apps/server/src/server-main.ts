import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DeliveryLog, startWebhookNotifier, webhooksFromEnv } from '@orchestron/notifications';
import { runMetricsSource } from '@orchestron/runtime';
import { createLogger, createMetrics, runServiceMain, startTracing } from '@orchestron/telemetry';
import { startAudit } from './audit.ts';
import { DeadLetterLog } from './dead-letters.ts';
import { startApiMode } from './api-mode.ts';
import { adminKeyFile, startEmbedded } from './embedded.ts';
import { tierConfig } from './tiers.ts';
import { createHttpApp } from './http/app.ts';
import { parseApiKeys } from './http/auth.ts';
import { KeyRing } from './keys/key-ring.ts';

const HELP = `orchestron server — the embedded tier in one process

Usage: npm start            (or: node apps/server/src/main.ts [--help])

HTTP API: GET /.well-known/agent.json for discovery, GET /v1/openapi.json for the OpenAPI 3 document (docs/api.md).
Web console: /console/ on the same address (docs/console.md).
Schedules: the engine in this process fires the schedules on its partitions (all of them with the in-process bus;
orchestron schedule --help, docs/schedules.md). With ORCHESTRON_MODE=api it only records them: orchestrators fire them.

Environment:
  PORT                  HTTP port on 127.0.0.1 (default 3000)
  HOST                  address to bind (default 127.0.0.1)
  ORCHESTRON_DATA       data directory: event store, worker ledger, admin key (default ./.orchestron)
  ORCHESTRON_EXAMPLES   directory of definitions to register at start (default ./examples)
  ORCHESTRON_POLICIES   directory of Cedar governance policies (default ./examples/policies)
  ORCHESTRON_API_KEYS   "key:role[:name[:tenant[:groups]]],…" with role producer|worker|operator|auditor|admin,
                        tenant a-z0-9- (empty or absent: "default") and groups joined by + (for approval
                        gates' assignees, e.g. key:operator:ann::finance+hr); unset: an admin key is created in
                        $ORCHESTRON_DATA/admin.key, which the CLI reads. More keys: orchestron keys create
                        (they are kept hashed, with scrypt, in the event store)
  ORCHESTRON_WORK_MS    work time of each example step in ms (default 50)
  ORCHESTRON_WORKERS    "off" to run without the example workers
  ORCHESTRON_STORE      embedded (default, SQLite in $ORCHESTRON_DATA) | postgres | kurrentdb
  ORCHESTRON_PG_URL     PostgreSQL URL (default postgres://postgres@127.0.0.1:5432/test)
  ORCHESTRON_PG_SCHEMA  PostgreSQL schema (default orchestron)
  ORCHESTRON_PG_POOL_SIZE  connections to PostgreSQL this process may hold (default 10)
  ORCHESTRON_BUS        memory (default, in-process) | kafka
  ORCHESTRON_KAFKA_BROKERS  comma-separated host:port (default 127.0.0.1:9092; npm run kafka:start runs one)
  ORCHESTRON_KAFKA_PARTITIONS  partitions of the topics Orchestron creates (default 3)
  ORCHESTRON_KAFKA_SESSION_TIMEOUT_MS  how soon a dead consumer loses its partitions (default 30000)
  ORCHESTRON_MODE       embedded (default: engine, governance and example workers in this process) |
                        api (the HTTP API alone, in front of orchestrator services; needs ORCHESTRON_BUS=kafka)
  ORCHESTRON_FLOW_CONTROL  circuit breakers, concurrency limits and rates per worker name, as JSON (embedded mode), e.g.
                        {"defaults":{"failureThreshold":10,"openMs":5000},"workers":{"mail":{"concurrency":4,"rate":10,"burst":2}}}
  ORCHESTRON_EVENT_BUFFER  how long an event no step waits for yet is kept for one that will (embedded mode;
                        default 24h; a duration such as 15m, 24h or 7d, at most 30d)
  ORCHESTRON_WEBHOOKS   webhooks for approvals, escalations and failures, as JSON: [{"url":…,"secret":"whsec_…",
                        "events":["run.needs_operator",…]?,"tenant":…?,"id":…?}] (docs/operators.md, "Webhooks");
                        in API mode, set it on one API process only
  ORCHESTRON_WEBHOOKS_FILE  the same list in a file (instead of ORCHESTRON_WEBHOOKS)
  OTEL_EXPORTER_OTLP_ENDPOINT  export trace spans over OTLP/HTTP (e.g. http://127.0.0.1:4318); unset: none
`;

await runServiceMain({
  name: 'orchestron',
  help: HELP,
  async start() {
    const root = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
    const port = Number(process.env.PORT ?? 3000);
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new Error(`PORT must be a port number, got ${JSON.stringify(process.env.PORT)}`);
    const dataDir = resolve(process.env.ORCHESTRON_DATA ?? '.orchestron');
    const logger = createLogger({ service: process.env.ORCHESTRON_MODE === 'api' ? 'orchestron-api' : 'orchestron' });
    const keys = process.env.ORCHESTRON_API_KEYS
      ? parseApiKeys(process.env.ORCHESTRON_API_KEYS)
      : [adminKeyFile(dataDir)];
    const mode = process.env.ORCHESTRON_MODE ?? 'embedded';
    if (mode !== 'embedded' && mode !== 'api')
      throw new Error(`ORCHESTRON_MODE must be embedded or api, got ${JSON.stringify(mode)}`);
    const tiers = tierConfig(process.env);
    const webhooks = webhooksFromEnv(process.env);
    const tracing = startTracing({
      serviceName: mode === 'api' ? 'orchestron-api' : 'orchestron',
      serviceInstance: process.env.ORCHESTRON_INSTANCE ?? `${mode}-${process.pid}`,
    });
    const metrics = createMetrics({ service: mode === 'api' ? 'orchestron-api' : 'orchestron' });
    const examplesDir = resolve(process.env.ORCHESTRON_EXAMPLES ?? resolve(root, 'examples'));
    const backend =
      mode === 'api'
        ? await startApiMode({ tiers, dataDir, examplesDir, logger }).then((api) => ({
            runs: api.runs,
            store: api.store,
            bus: api.bus,
            definitions: api.definitions,
            recovered: 0,
            close: () => api.close(),
          }))
        : await startEmbedded({
            dataDir,
            tiers,
            examplesDir,
            policiesDir: resolve(process.env.ORCHESTRON_POLICIES ?? resolve(root, 'examples/policies')),
            logger,
            metrics,
            withWorkers: process.env.ORCHESTRON_WORKERS !== 'off',
            ...(process.env.ORCHESTRON_WORK_MS ? { workMs: Number(process.env.ORCHESTRON_WORK_MS) } : {}),
          }).then((embedded) => ({
            runs: embedded.engine,
            store: embedded.store,
            bus: embedded.bus,
            definitions: embedded.definitions,
            recovered: embedded.recovered,
            close: () => embedded.close(),
          }));
    const deadLetters = new DeadLetterLog(backend.bus, logger);
    deadLetters.start();
    const audit = startAudit({ store: backend.store, dataDir, env: process.env, logger });
    const notifier =
      webhooks.length > 0 ? await startWebhookNotifier({ store: backend.store, endpoints: webhooks, logger }) : null;
    const keyRing = await KeyRing.open({
      config: keys,
      store: backend.store,
      onRefreshError: (error) =>
        logger.warn('could not read API keys; the keys known before stay in force', {
          error: error instanceof Error ? error.message : String(error),
        }),
    });
    const app = await createHttpApp({
      runs: backend.runs,
      keys: keyRing,
      logger,
      metrics: runMetricsSource(backend.runs, metrics),
      ...(backend.store.readRows ? { notifications: new DeliveryLog(backend.store.readRows) } : {}),
      ...(backend.store.auditIndex ? { auditEvents: backend.store.auditIndex } : {}),
      audit,
      deadLetters,
    });
    const address = await app.listen(process.env.HOST ?? '127.0.0.1', port);
    logger.info('orchestron is up', {
      url: address,
      mode,
      dataDir,
      store: tiers.store,
      bus: tiers.bus,
      recoveredRuns: backend.recovered,
      definitions: backend.definitions,
      auth: process.env.ORCHESTRON_API_KEYS ? 'ORCHESTRON_API_KEYS' : `${dataDir}/admin.key`,
      tracing: tracing.exporting,
      webhooks: webhooks.map((endpoint) => endpoint.id),
    });
    process.stdout.write(
      `Orchestron listening on ${address} (${mode === 'api' ? 'API only, ' : ''}store ${tiers.store}, bus ${tiers.bus}; data in ${dataDir}; definitions: ${backend.definitions.join(', ') || 'none'})\n`,
    );
    process.stdout.write(
      `Console: ${address}/console/ (sign in with an API key${process.env.ORCHESTRON_API_KEYS ? '' : `: the admin key is in ${dataDir}/admin.key`})\n`,
    );
    return {
      logger,
      async close() {
        keyRing.close();
        await app.close();
        await notifier?.close();
        await audit?.close();
        await deadLetters.close();
        await backend.close();
        await tracing.shutdown();
      },
    };
  },
});
