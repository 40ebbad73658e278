// A local OTLP/HTTP trace receiver that appends spans to an NDJSON file: no Docker, no collector binary (ADR 8).
// Point services at it with OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 and read traces with tools/trace-show.ts.
import { parseArgs } from 'node:util';
import { startOtlpFileCollector } from '@orchestron/telemetry/testing';

const USAGE = `usage: node tools/otlp-file-collector.ts [--port 4318] [--host 127.0.0.1] [--out .orchestron/traces.ndjson] [--verbose]

Accepts POST /v1/traces in OTLP/HTTP JSON (what @opentelemetry/exporter-trace-otlp-http sends, gzip or not)
and appends one JSON line per span: traceId, spanId, parentSpanId, name, kind, service, instance, startTime,
endTime, durationMs, status, attributes. GET /healthz answers {"status":"ok"}. Stops on SIGINT/SIGTERM.

  --port     port to listen on (default 4318; 0 picks a free one)
  --host     address to bind (default 127.0.0.1)
  --out      NDJSON file to append to (default .orchestron/traces.ndjson; its directory is created)
  --verbose  print a line per received batch
`;

function fail(message: string): never {
  process.stderr.write(`otlp-file-collector: ${message}\n\n${USAGE}`);
  process.exit(2);
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      port: { type: 'string', default: '4318' },
      host: { type: 'string', default: '127.0.0.1' },
      out: { type: 'string', default: '.orchestron/traces.ndjson' },
      verbose: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  }));
} catch (error) {
  fail(error instanceof Error ? error.message : String(error));
}
if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535)
  fail(`--port must be an integer from 0 to 65535, got "${values.port}"`);

try {
  const collector = await startOtlpFileCollector({
    port,
    host: values.host,
    out: values.out,
    onSpans: values.verbose
      ? (spans) =>
          process.stdout.write(
            `received ${spans.length} spans from ${[...new Set(spans.map((s) => s.service))].join(', ')}\n`,
          )
      : undefined,
  });
  process.stdout.write(
    `otlp-file-collector: listening on ${collector.url} (POST /v1/traces), writing ${collector.out}\n`,
  );
  const stop = (): void => {
    collector.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`otlp-file-collector: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
