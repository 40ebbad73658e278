// npm run stack:start | stack:stop | stack:kill | stack:restart — the production-shaped stack as separate processes.
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { alive } from './host.ts';
import { ROOT } from './root.ts';
import { ENDING_SIGNALS, killStackProcess, readStackState, restartStackProcess } from './services.ts';
import { startStack, stopStack } from './stack.ts';
import { promoteStandby, standbyOf } from './standby.ts';
import type { StackState } from './services.ts';

const HELP = `orchestron stack — every service as its own process, on PostgreSQL and Kafka

Usage: npm run stack:start [-- --port 3000 --schema orchestron_stack --work-ms 50 --brokers host:port --standbys]
       npm run stack:stop
       npm run stack:kill <service> [-- --signal SIGKILL]
       npm run stack:restart <service>
       (every command takes --dir <state dir>, default .orchestron/stack)

start    starts Kafka if it is not running (unless --brokers or ORCHESTRON_KAFKA_BROKERS names one that runs),
         an OTLP trace collector, two orchestrator instances, the governance service, two instances of each
         example worker (identity, iam, mail, workspace, chat, payments, records) and the HTTP API; prints
         ports and keys, and writes .orchestron/stack.env (ORCHESTRON_URL, ORCHESTRON_API_KEY = an admin key,
         and one key per other role) for "set -a; . .orchestron/stack.env" or the CLI. It records how to start
         each service in <dir>/services.json (mode 0600; no keys or passwords) for restart.
         --standbys: each orchestrator joins its group under its own name and gets a warm standby
         (orchestrator-<i>-standby, ORCHESTRON_STANDBY=1) that takes over its partitions when it dies (ADR 51).
stop     stops them (SIGTERM, then SIGKILL after 10 s), and Kafka if start started it.
kill     sends a signal to one service (default SIGKILL, i.e. kill -9; also SIGTERM, SIGSTOP, SIGCONT) and,
         for a signal that ends it, waits until it is gone. An orchestrator with a standby: waits until the
         standby has taken over, records it under the orchestrator's name, and starts a new standby.
restart  stops one service if it runs (SIGTERM, then SIGKILL after 10 s), starts it again with the same
         command line and environment, and waits until it is ready. Its log: <dir>/logs/<service>.restart-<n>.log.
         If the stack's PostgreSQL URL had a password, set ORCHESTRON_PG_URL or PGPASSWORD: it is not on disk.
         An orchestrator with a standby is stopped and replaced by its standby, as kill does.

Services are named as start prints them: collector, orchestrator-1, orchestrator-2, governance, api,
identity-1, identity-2, mail-1, … (a wrong name gets the list).

Logs:   .orchestron/stack/logs/<process>.log   Traces: .orchestron/stack/traces.ndjson
        (show one run's trace with: node tools/trace-show.ts .orchestron/stack/traces.ndjson --run <runId>)
Needs:  PostgreSQL on 127.0.0.1:5432 (ORCHESTRON_PG_URL), Java 17 and Maven for Kafka.
`;

const SIGNALS: readonly NodeJS.Signals[] = ['SIGKILL', 'SIGTERM', 'SIGINT', 'SIGSTOP', 'SIGCONT'];

class UsageError extends Error {}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    help: { type: 'boolean', short: 'h' },
    port: { type: 'string' },
    schema: { type: 'string' },
    'work-ms': { type: 'string' },
    brokers: { type: 'string' },
    dir: { type: 'string' },
    signal: { type: 'string' },
    standbys: { type: 'boolean', default: false },
  },
});
const [command, service, ...extra] = positionals;
const COMMANDS = ['start', 'stop', 'kill', 'restart'];
if (values.help || command === undefined || !COMMANDS.includes(command)) {
  process.stdout.write(HELP);
  if (!values.help && command !== undefined) process.stderr.write(`stack: unknown command "${command}"\n`);
  process.exit(values.help ? 0 : 2);
}
const dir = resolve(values.dir ?? join(ROOT, '.orchestron/stack'));

try {
  if (command === 'kill' || command === 'restart') await controlService(command, named(service));
  else if (command === 'stop') {
    const stopped = await stopStack(dir);
    process.stdout.write(stopped === 0 ? 'stack: nothing was running\n' : `stack: stopped ${stopped} processes\n`);
  } else await start();
} catch (error) {
  process.stderr.write(`stack: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(error instanceof UsageError ? 2 : 1);
}

function named(name: string | undefined): string {
  if (name === undefined || extra.length > 0)
    throw new UsageError(`${command} takes one service name (npm run stack:${command} <service>; --help lists them)`);
  return name;
}

async function controlService(what: 'kill' | 'restart', name: string): Promise<void> {
  const state = readStackState(dir);
  const names = state.processes.map((p) => p.name);
  if (!state.processes.some((p) => alive(p.pid))) throw new Error(`no stack is running from ${dir}`);
  if (!names.includes(name))
    throw new UsageError(`the stack has no service called "${name}"; it has ${names.join(', ')}`);
  const target = state.processes.find((p) => p.name === name);
  if (what === 'kill') {
    const signalName = (values.signal ?? 'SIGKILL').toUpperCase().replace(/^(?!SIG)/, 'SIG') as NodeJS.Signals;
    if (!SIGNALS.includes(signalName))
      throw new UsageError(`--signal must be one of ${SIGNALS.join(', ')}, got ${JSON.stringify(values.signal)}`);
    const killed = await killStackProcess(state, name, signalName);
    process.stdout.write(`stack: sent ${signalName} to ${name} (pid ${killed.pid})\n`);
    if (ENDING_SIGNALS.includes(signalName) && hasStandby(state, name)) await takeOver(state, name, Date.now());
    return;
  }
  if (target && alive(target.pid)) {
    await killStackProcess(state, name, 'SIGTERM').catch(() => killStackProcess(state, name, 'SIGKILL'));
    process.stdout.write(`stack: stopped ${name} (pid ${target.pid})\n`);
  }
  if (hasStandby(state, name)) {
    await takeOver(state, name, Date.now());
    return;
  }
  const next = await restartStackProcess(state, name);
  const started = next.processes.find((p) => p.name === name);
  process.stdout.write(`stack: restarted ${name}: pid ${started?.pid} — ${started?.ready.trim()}\n`);
}

function hasStandby(state: StackState, name: string): boolean {
  return state.processes.some((p) => p.name === standbyOf(name) && alive(p.pid));
}

/** After `name` ended: its standby takes over under its name, and a new standby starts (what a supervisor does). */
async function takeOver(state: StackState, name: string, endedAt: number): Promise<void> {
  const { stack, next } = await promoteStandby(state, name);
  const pid = stack.processes.find((p) => p.name === name)?.pid;
  process.stdout.write(
    `stack: ${standbyOf(name)} (pid ${pid}) took over as ${name} ${Date.now() - endedAt} ms after it ended\n`,
  );
  const fresh = (await next).processes.find((p) => p.name === standbyOf(name));
  process.stdout.write(`stack: a new ${standbyOf(name)} stands by (pid ${fresh?.pid})\n`);
}

async function start(): Promise<void> {
  const port = values.port === undefined ? 3000 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`--port must be a port number, got ${JSON.stringify(values.port)}`);
  const workMs = values['work-ms'] === undefined ? 50 : Number(values['work-ms']);
  if (!Number.isInteger(workMs) || workMs < 0)
    throw new UsageError(`--work-ms must be a non-negative integer, got ${JSON.stringify(values['work-ms'])}`);
  const brokers = values.brokers?.split(',').map((b) => b.trim());
  if (brokers !== undefined && brokers.some((b) => !/^[^\s:,]+:\d{1,5}$/.test(b)))
    throw new UsageError(`--brokers must be comma-separated host:port, got ${JSON.stringify(values.brokers)}`);
  process.stdout.write('stack: starting (this takes 10–30 s)\n');
  const stack = await startStack({
    dir,
    apiPort: port,
    workMs,
    ...(values.schema ? { pgSchema: values.schema } : {}),
    ...(brokers ? { brokers } : {}),
    ...(values.standbys ? { staticMembers: true, standbys: true } : {}),
  });
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
      `  services     ${stack.processes.map((p) => p.name).join(' ')}   (npm run stack:restart <service>)`,
      '',
    ].join('\n'),
  );
}
