// The production-shaped stack as separate processes: Kafka (when not running), two orchestrator instances, the
// governance service, the HTTP API, two instances of each example worker, and a trace collector, on PostgreSQL.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { EXAMPLE_WORKER_NAMES } from '@orchestron/example-workers';
import {
  alive,
  ensureKafka,
  freePorts,
  ledgerConnections,
  postgresHeadroom,
  requireKafka,
  signal,
  STORE_CONNECTIONS,
} from './host.ts';
import { launch } from './launch.ts';
import type { Spec, StackProcess } from './launch.ts';
import { ROOT } from './root.ts';
import { apiKeysOf, recordServices, ROLES } from './services.ts';
import type { Role } from './services.ts';
import { standbyOf } from './standby.ts';

export { ROOT } from './root.ts';
export { alive } from './host.ts';
export type { StackProcess } from './launch.ts';
export { killStackProcess, restartStackProcess } from './services.ts';
export { promoteStandby, standbyOf } from './standby.ts';
/** Every example worker: the stack runs two instances of each. */
export const EXAMPLE_WORKERS = EXAMPLE_WORKER_NAMES;

export interface StackOptions {
  /** Where logs, pids, keys, traces and stack.env go. Default `<repo>/.orchestron/stack`. */
  readonly dir?: string;
  /** PostgreSQL schema of the event store and the workers' ledger. Default `orchestron_stack`. */
  readonly pgSchema?: string;
  readonly pgUrl?: string;
  /** HTTP port of the API; 0 picks a free one. Default 3000. */
  readonly apiPort?: number;
  readonly orchestrators?: number;
  readonly workerInstances?: number;
  readonly workers?: readonly string[];
  /** Work time of each example step, ms. Default 50. */
  readonly workMs?: number;
  /** Work time per worker name, ms, over `workMs` (e.g. `{ chat: 10 }`). Default: none. */
  readonly workMsByWorker?: Readonly<Record<string, number>>;
  /** Whether to run the OTLP trace collector and export spans to it. Default true; benches turn it off. */
  readonly collector?: boolean;
  /**
   * Kafka brokers (host:port) of a broker that runs already. Default: ORCHESTRON_KAFKA_BROKERS if set; otherwise the
   * local one on 127.0.0.1:9092, started (npm run kafka:start) when it does not run.
   */
  readonly brokers?: readonly string[];
  /** More environment for every process of the stack (e.g. ORCHESTRON_TOPIC_PREFIX), over the stack's own. */
  readonly env?: Readonly<Record<string, string>>;
  /** How soon a killed consumer loses its partitions. Default 10 s (the broker's floor is 6 s). */
  readonly sessionTimeoutMs?: number;
  /**
   * Orchestrators join their group under their names (ORCHESTRON_KAFKA_STATIC_MEMBER=1), so one restarted under its
   * name takes its partitions back at once instead of after the session timeout. Default false.
   */
  readonly staticMembers?: boolean;
  /**
   * A warm standby beside each orchestrator (`orchestrator-<i>-standby`, ORCHESTRON_STANDBY=1; needs staticMembers):
   * started once the orchestrators are ready, it takes over when its orchestrator dies (promoteStandby). Default false.
   */
  readonly standbys?: boolean;
  readonly partitions?: number;
  /** Workers report step.started only for attempts still running this long (default: the workers' own, 100 ms). */
  readonly reportStartedAfterMs?: number;
  /** PostgreSQL connections of each worker process's ledger. Default: about 40 over all of them, 2 to 10 each. */
  readonly workerPoolSize?: number;
  /** Progress lines (one per process started). Default: stdout. */
  readonly log?: (line: string) => void;
}

export interface Stack {
  readonly dir: string;
  readonly url: string;
  /** PostgreSQL schema of the event store and the workers' ledger. */
  readonly pgSchema: string;
  readonly keys: Readonly<Record<Role, string>>;
  readonly processes: readonly StackProcess[];
  readonly tracesFile: string;
  readonly envFile: string;
  readonly metricsUrls: readonly string[];
  readonly kafkaStartedHere: boolean;
  /** What may go wrong with this stack on this machine (e.g. too few PostgreSQL connections), also logged at start. */
  readonly warnings: readonly string[];
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const dir = resolve(options.dir ?? join(ROOT, '.orchestron/stack'));
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  if (existsSync(join(dir, 'stack.json'))) {
    const previous = JSON.parse(readFileSync(join(dir, 'stack.json'), 'utf8')) as Stack;
    if (previous.processes.some((p) => alive(p.pid)))
      throw new Error(`a stack is already running from ${dir} (run npm run stack:stop first)`);
  }
  mkdirSync(join(dir, 'logs'), { recursive: true });
  const brokers = options.brokers ?? brokersFromEnv(process.env);
  if (brokers !== undefined) await requireKafka(brokers);
  const kafkaStartedHere = brokers === undefined ? ensureKafka(log) : false;
  const schema = options.pgSchema ?? 'orchestron_stack';
  const workerProcesses = (options.workers ?? EXAMPLE_WORKERS).length * (options.workerInstances ?? 2);
  const ledgerPool = options.workerPoolSize ?? ledgerConnections(workerProcesses);
  const warnings = await postgresHeadroom(
    options.pgUrl ?? process.env.ORCHESTRON_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    (options.orchestrators ?? 2) + 1,
    workerProcesses,
    ledgerPool,
  );
  for (const warning of warnings) log(`stack: warning: ${warning}`);
  const keys = Object.fromEntries(
    ROLES.map((role) => [role, `${role}-${randomBytes(18).toString('base64url')}`]),
  ) as Record<Role, string>;
  const apiPort = options.apiPort ?? 3000;
  const [collectorPort, governanceMetricsPort, ...metricsPorts] = await freePorts(2 + (options.orchestrators ?? 2));
  const tracesFile = join(dir, 'traces.ndjson');
  writeFileSync(tracesFile, '');
  const collector = options.collector ?? true;
  const common: Record<string, string> = {
    // What the caller's environment sets for Orchestron is recorded with the rest, so a restart gets it too.
    ...inheritedSettings(process.env),
    ORCHESTRON_STORE: 'postgres',
    ORCHESTRON_BUS: 'kafka',
    ORCHESTRON_PG_SCHEMA: schema,
    ...(options.pgUrl ? { ORCHESTRON_PG_URL: options.pgUrl } : {}),
    ...(brokers === undefined ? {} : { ORCHESTRON_KAFKA_BROKERS: brokers.join(',') }),
    ORCHESTRON_KAFKA_PARTITIONS: String(options.partitions ?? 3),
    ORCHESTRON_KAFKA_SESSION_TIMEOUT_MS: String(options.sessionTimeoutMs ?? 10_000),
    ORCHESTRON_WORK_MS: String(options.workMs ?? 50),
    // Sized so the whole stack stays well under a default PostgreSQL's 100 connections.
    ORCHESTRON_PG_POOL_SIZE: String(STORE_CONNECTIONS),
    ...(collector ? { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${collectorPort}` } : {}),
    ...options.env,
  };
  const workMsOf = (worker: string): Record<string, string> => {
    const ms = options.workMsByWorker?.[worker];
    return ms === undefined ? {} : { ORCHESTRON_WORK_MS: String(ms) };
  };
  const specs: Spec[] = [
    ...(collector
      ? [
          {
            name: 'collector',
            role: 'collector',
            script: 'tools/otlp-file-collector.ts',
            args: ['--port', String(collectorPort), '--out', tracesFile],
            env: {},
            ready: /listening on/,
          } satisfies Spec,
        ]
      : []),
    ...Array.from({ length: options.orchestrators ?? 2 }, (_, i): Spec[] => {
      const orchestrator: Spec = {
        name: `orchestrator-${i + 1}`,
        role: 'orchestrator',
        script: 'apps/orchestrator/src/main.ts',
        env: {
          ...common,
          ORCHESTRON_INSTANCE: `orchestrator-${i + 1}`,
          ORCHESTRON_METRICS_PORT: String(metricsPorts[i]),
          ...(options.staticMembers === true ? { ORCHESTRON_KAFKA_STATIC_MEMBER: '1' } : {}),
        },
        ready: /ready/,
      };
      if (options.standbys !== true) return [orchestrator];
      if (options.staticMembers !== true) throw new Error('startStack: standbys need staticMembers');
      const standby = { ...orchestrator.env, ORCHESTRON_STANDBY: '1' };
      return [
        orchestrator,
        { ...orchestrator, name: standbyOf(orchestrator.name), env: standby, ready: /standing by/ },
      ];
    }).flat(),
    {
      name: 'governance',
      role: 'governance',
      script: 'apps/governance/src/main.ts',
      env: { ...common, ORCHESTRON_INSTANCE: 'governance-1', ORCHESTRON_METRICS_PORT: String(governanceMetricsPort) },
      ready: /governance ready/,
    },
    ...(options.workers ?? EXAMPLE_WORKERS).flatMap((worker) =>
      Array.from({ length: options.workerInstances ?? 2 }, (_, i): Spec => ({
        name: `${worker}-${i + 1}`,
        role: 'worker',
        script: 'apps/workers/src/main.ts',
        args: ['--worker', worker, '--instance', `${worker}-${i + 1}`],
        env: {
          ...common,
          ORCHESTRON_PG_POOL_SIZE: String(ledgerPool),
          ...(options.reportStartedAfterMs === undefined
            ? {}
            : { ORCHESTRON_REPORT_STARTED_AFTER_MS: String(options.reportStartedAfterMs) }),
          ...workMsOf(worker),
        },
        ready: /ready/,
      })),
    ),
    {
      name: 'api',
      role: 'api',
      script: 'apps/server/src/main.ts',
      env: {
        ...common,
        ORCHESTRON_MODE: 'api',
        PORT: String(apiPort),
        ORCHESTRON_DATA: join(dir, 'api'),
        ORCHESTRON_API_KEYS: apiKeysOf(keys),
      },
      ready: /listening on (http:\/\/\S+)/,
    },
  ];
  recordServices(dir, specs);
  const processes: StackProcess[] = [];
  // Every process is recorded as soon as it is spawned, so a failed start stops all of them, ready or not.
  const spawned: StackProcess[] = [];
  const record = (): void =>
    writeFileSync(join(dir, 'stack.json'), JSON.stringify({ dir, processes: spawned, kafkaStartedHere }, null, 2));
  const onSpawn = (p: StackProcess): void => {
    spawned.push(p);
    record();
  };
  try {
    // Everything but the API first, in parallel, then the standbys (which must find their names taken): the API is
    // started last, so it only takes calls once all answer.
    const isStandby = (spec: Spec): boolean => spec.env.ORCHESTRON_STANDBY === '1';
    for (const batch of [specs.filter((s) => s.role !== 'api' && !isStandby(s)), specs.filter(isStandby)]) {
      const started = await Promise.allSettled(batch.map((spec) => launch(spec, dir, onSpawn)));
      const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
      processes.push(...started.map((r) => (r as PromiseFulfilledResult<StackProcess>).value));
    }
    processes.push(await launch(specs[specs.length - 1] as Spec, dir, onSpawn));
  } catch (error) {
    await stopStack(dir, () => undefined);
    throw error;
  }
  const url =
    /listening on (http:\/\/\S+)/.exec(processes.find((p) => p.role === 'api')?.ready ?? '')?.[1] ??
    `http://127.0.0.1:${apiPort}`;
  // A restarted API listens where the first one did, also when the port was picked (0).
  recordServices(
    dir,
    specs.map((spec) => (spec.role === 'api' ? { ...spec, env: { ...spec.env, PORT: new URL(url).port } } : spec)),
  );
  const envFile = join(dir, '..', 'stack.env');
  writeFileSync(
    envFile,
    `ORCHESTRON_URL=${url}\nORCHESTRON_API_KEY=${keys.admin}\n${ROLES.filter((r) => r !== 'admin')
      .map((r) => `ORCHESTRON_${r.toUpperCase()}_KEY=${keys[r]}`)
      .join('\n')}\n`,
    { mode: 0o600 },
  );
  const metricsUrls = [...metricsPorts, governanceMetricsPort].map((port) => `http://127.0.0.1:${port}/metrics`);
  const stack: Stack = {
    dir,
    url,
    pgSchema: schema,
    keys,
    processes,
    tracesFile,
    envFile,
    metricsUrls,
    kafkaStartedHere,
    warnings,
  };
  writeFileSync(join(dir, 'stack.json'), JSON.stringify(stack, null, 2), { mode: 0o600 });
  for (const p of processes) log(`  ${p.name.padEnd(16)} pid ${String(p.pid).padEnd(7)} ${p.ready.trim()}`);
  return stack;
}

/** Stops every process of the stack in `dir` (SIGTERM, then SIGKILL after 10 s), and Kafka if the stack started it. */
export async function stopStack(
  dir: string = join(ROOT, '.orchestron/stack'),
  log: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
): Promise<number> {
  const file = join(resolve(dir), 'stack.json');
  if (!existsSync(file)) return 0;
  const stack = JSON.parse(readFileSync(file, 'utf8')) as Pick<Stack, 'processes' | 'kafkaStartedHere'>;
  const running = stack.processes.filter((p) => alive(p.pid));
  // The API first, so nothing new comes in; then the rest.
  for (const p of [...running].sort((a, b) => (a.role === 'api' ? -1 : b.role === 'api' ? 1 : 0)))
    signal(p.pid, 'SIGTERM');
  const deadline = Date.now() + 10_000;
  while (running.some((p) => alive(p.pid)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  for (const p of running.filter((q) => alive(q.pid))) {
    log(`  ${p.name} did not stop in 10 s; killing it`);
    signal(p.pid, 'SIGKILL');
  }
  for (const p of running) log(`  stopped ${p.name} (pid ${p.pid})`);
  if (stack.kafkaStartedHere) spawnSync('bash', [join(ROOT, 'infra/kafka/kafka.sh'), 'stop'], { stdio: 'inherit' });
  writeFileSync(file, JSON.stringify({ ...stack, processes: [] }, null, 2));
  return running.length;
}

function brokersFromEnv(env: NodeJS.ProcessEnv): string[] | undefined {
  const brokers = (env.ORCHESTRON_KAFKA_BROKERS ?? '')
    .split(',')
    .map((b) => b.trim())
    .filter((b) => b !== '');
  return brokers.length === 0 ? undefined : brokers;
}

/** ORCHESTRON_* and OTEL_* settings of the caller, without keys, passwords, tokens or headers. */
function inheritedSettings(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter(
      (entry): entry is [string, string] =>
        entry[1] !== undefined &&
        /^(ORCHESTRON|OTEL)_/.test(entry[0]) &&
        !/(KEYS?|PASSWORD|SECRET|TOKEN|HEADERS)$/.test(entry[0]),
    ),
  );
}
