// npm run stack:start | stack:stop — the production-shaped stack as separate processes on this machine.
import { parseArgs } from 'node:util';
import { startStack, stopStack } from './stack.ts';

const HELP = `orchestron stack — every service as its own process, on PostgreSQL and Kafka

Usage: npm run stack:start [-- --port 3000 --schema orchestron_stack --work-ms 50]
       npm run stack:stop

start   starts Kafka if it is not running, an OTLP trace collector, two orchestrator instances, the
        governance service, two instances of each example worker (identity, iam, mail, workspace, chat,
        payments, records) and the HTTP API; prints ports and keys, and writes .orchestron/stack.env
        (ORCHESTRON_URL, ORCHESTRON_API_KEY = an admin key, and one key per other role) for
        "set -a; . .orchestron/stack.env" or the CLI.
stop    stops them (SIGTERM, then SIGKILL after 10 s), and Kafka if start started it.

Logs:   .orchestron/stack/logs/<process>.log   Traces: .orchestron/stack/traces.ndjson
        (show one run's trace with: node tools/trace-show.ts .orchestron/stack/traces.ndjson --run <runId>)
Needs:  PostgreSQL on 127.0.0.1:5432 (ORCHESTRON_PG_URL), Java 17 and Maven for Kafka.
`;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    help: { type: 'boolean', short: 'h' },
    port: { type: 'string' },
    schema: { type: 'string' },
    'work-ms': { type: 'string' },
  },
});
const command = positionals[0];
if (values.help || (command !== 'start' && command !== 'stop')) {
  process.stdout.write(HELP);
  process.exit(values.help ? 0 : 2);
}

try {
  if (command === 'stop') {
    const stopped = await stopStack();
    process.stdout.write(stopped === 0 ? 'stack: nothing was running\n' : `stack: stopped ${stopped} processes\n`);
  } else {
    const port = values.port === undefined ? 3000 : Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new Error(`--port must be a port number, got ${JSON.stringify(values.port)}`);
    const workMs = values['work-ms'] === undefined ? 50 : Number(values['work-ms']);
    if (!Number.isInteger(workMs) || workMs < 0)
      throw new Error(`--work-ms must be a non-negative integer, got ${JSON.stringify(values['work-ms'])}`);
    process.stdout.write('stack: starting (this takes 10–30 s)\n');
    const stack = await startStack({ apiPort: port, workMs, ...(values.schema ? { pgSchema: values.schema } : {}) });
    process.stdout.write(
      [
        '',
        `stack: up — ${stack.processes.length} processes`,
        `  API          ${stack.url}   (OpenAPI ${stack.url}/v1/openapi.json)`,
        `  admin key    ${stack.keys.admin}`,
        `  other keys   operator ${stack.keys.operator}  producer ${stack.keys.producer}  auditor ${stack.keys.auditor}  worker ${stack.keys.worker}`,
        `  metrics      ${[`${stack.url}/metrics`, ...stack.metricsUrls].join('  ')}`,
        `  traces       ${stack.tracesFile}`,
        `  env file     ${stack.envFile}   (set -a; . ${stack.envFile}; set +a; npx orchestron list)`,
        '',
      ].join('\n'),
    );
  }
} catch (error) {
  process.stderr.write(`stack: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
