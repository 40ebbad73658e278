// A stand-in service for telemetry.e2e.spec.ts: one process, one service name, spans exported to
// OTEL_EXPORTER_OTLP_ENDPOINT. `start` begins a run's trace and prints the headers it would put on a message;
// `handle` continues from such a traceparent, then fires a header-less span for the run as a timer would.
import { createLogger, injectHeaders, startTracing, withSpan } from '@orchestron/telemetry';

const [mode, service, instance, runId, traceparent] = process.argv.slice(2);
if ((mode !== 'start' && mode !== 'handle') || !service || !instance || !runId) {
  process.stderr.write('usage: node e2e-service.fixture.ts start|handle <service> <instance> <runId> [traceparent]\n');
  process.exit(2);
}
const tracing = startTracing({ serviceName: service, serviceInstance: instance });
const logger = createLogger({ service, instance });
if (mode === 'start') {
  const headers = await withSpan('api.start-run', { runId, kind: 'server' }, () => {
    logger.info('run started', { runId });
    return injectHeaders();
  });
  process.stdout.write(`${JSON.stringify(headers)}\n`);
} else {
  await withSpan('worker.handle', { headers: { traceparent }, kind: 'consumer' }, () =>
    logger.info('step handled', { runId, stepId: 'charge', attempt: 1 }),
  );
  await withSpan('timer.fire', { runId }, () => logger.info('timer fired', { runId }));
}
await tracing.shutdown();
