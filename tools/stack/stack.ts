// The production-shaped stack as separate processes: Kafka (when not running), two orchestrator instances, the
// governance service, the HTTP API, two instances of each example worker, and a trace collector, on PostgreSQL.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { EXAMPLE_WORKER_NAMES } from '@orchestron/example-workers';
import {
  alive,
  ensureKafka,
  freePorts,
  ledgerConnections,
  postgresHeadroom,
  signal,
  STORE_CONNECTIONS,
} from './host.ts';
import { ROOT } from './root.ts';

export { ROOT } from './root.ts';
export { alive } from './host.ts';
/** Every example worker: the stack runs two instances of each. */
export const EXAMPLE_WORKERS = EXAMPLE_WORKER_NAMES;
const ROLES = ['admin', 'operator', 'producer', 'auditor', 'worker'] as const;
type Role = (typeof ROLES)[number];

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
   * A Kafka of the caller's own (host:port, comma-separated), which the stack neither starts nor stops. Default: the
   * local broker on 127.0.0.1:9092, started with infra/kafka/kafka.sh when it is not running.
   */
  readonly kafkaBrokers?: string;
  /** More environment for every process of the stack (e.g. ORCHESTRON_TOPIC_PREFIX), over the stack's own. */
  readonly env?: Readonly<Record<string, string>>;
  /** How soon a killed consumer loses its partitions. Default 10 s (the broker's floor is 6 s). */
  readonly sessionTimeoutMs?: number;
  readonly partitions?: number;
  /** Workers report step.started only for attempts still running this long (default: the workers' own, 100 ms). */
  readonly reportStartedAfterMs?: number;
  /** PostgreSQL connections of each worker process's ledger. Default: about 40 over all of them, 2 to 10 each. */
  readonly workerPoolSize?: number;
  /** Progress lines (one per process started). Default: stdout. */
  readonly log?: (line: string) => void;
}

export interface StackProcess {
  readonly name: string;
  readonly role: 'orchestrator' | 'governance' | 'api' | 'worker' | 'collector';
  readonly pid: number;
  readonly logFile: string;
  /** What the process printed when it was ready. */
  readonly ready: string;
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

interface Spec {
  readonly name: string;
  readonly role: StackProcess['role'];
  readonly script: string;
  readonly args?: readonly string[];
  readonly env: Record<string, string>;
  readonly ready: RegExp;
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
  const kafkaStartedHere = options.kafkaBrokers === undefined && ensureKafka(log);
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
    ORCHESTRON_STORE: 'postgres',
    ORCHESTRON_BUS: 'kafka',
    ...(options.kafkaBrokers !== undefined ? { ORCHESTRON_KAFKA_BROKERS: options.kafkaBrokers } : {}),
    ORCHESTRON_PG_SCHEMA: schema,
    ...(options.pgUrl ? { ORCHESTRON_PG_URL: options.pgUrl } : {}),
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
    ...Array.from({ length: options.orchestrators ?? 2 }, (_, i): Spec => ({
      name: `orchestrator-${i + 1}`,
      role: 'orchestrator',
      script: 'apps/orchestrator/src/main.ts',
      env: {
        ...common,
        ORCHESTRON_INSTANCE: `orchestrator-${i + 1}`,
        ORCHESTRON_METRICS_PORT: String(metricsPorts[i]),
      },
      ready: /ready/,
    })),
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
        ORCHESTRON_API_KEYS: ROLES.map((role) => `${keys[role]}:${role}:stack-${role}`).join(','),
      },
      ready: /listening on (http:\/\/\S+)/,
    },
  ];
  for (const spec of specs) launchedSpecs.set(specKey(dir, spec.name), spec);
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
    // Everything but the API first, in parallel: the API is started last, so it only takes calls once all answer.
    const first = specs.filter((s) => s.role !== 'api');
    const started = await Promise.allSettled(first.map((spec) => launch(spec, dir, onSpawn)));
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    processes.push(...started.map((r) => (r as PromiseFulfilledResult<StackProcess>).value));
    processes.push(await launch(specs[specs.length - 1] as Spec, dir, onSpawn));
  } catch (error) {
    await stopStack(dir, () => undefined);
    throw error;
  }
  const url =
    /listening on (http:\/\/\S+)/.exec(processes.find((p) => p.role === 'api')?.ready ?? '')?.[1] ??
    `http://127.0.0.1:${apiPort}`;
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

/**
 * Sends `signal` to the stack's process called `name` (e.g. `orchestrator-1`, `workspace-1`) and, for a signal that
 * ends it, waits until it is gone (10 s at most), so the caller knows the kill has happened when this returns.
 */
export async function killStackProcess(
  stack: Pick<Stack, 'processes'>,
  name: string,
  signalName: NodeJS.Signals = 'SIGKILL',
): Promise<StackProcess> {
  const target = stack.processes.find((p) => p.name === name);
  if (!target)
    throw new Error(
      `killStackProcess: the stack has no process called "${name}"; it has ${stack.processes.map((p) => p.name).join(', ')}`,
    );
  if (!alive(target.pid)) throw new Error(`killStackProcess: ${name} (pid ${target.pid}) is not running`);
  signal(target.pid, signalName);
  if (signalName === 'SIGKILL' || signalName === 'SIGTERM' || signalName === 'SIGINT') {
    const deadline = Date.now() + 10_000;
    while (alive(target.pid)) {
      if (Date.now() > deadline)
        throw new Error(`killStackProcess: ${name} (pid ${target.pid}) is still running 10 s after ${signalName}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return target;
}

/** What startStack launched in this process, by stack directory and process name, so a process can be replaced. */
const launchedSpecs = new Map<string, Spec>();
const specKey = (dir: string, name: string): string => `${resolve(dir)}\0${name}`;
const restarts = new Map<string, number>();

/**
 * Starts a replacement for the stack's process called `name` (which must not be running: kill it first with
 * killStackProcess), with the same script, arguments and environment, and waits until it is ready. Only in the
 * process that started the stack. Returns the stack with the replacement in place (stack.json is updated too,
 * so stopStack stops it); its log is `<name>.restart-<n>.log`.
 */
export async function restartStackProcess(stack: Stack, name: string): Promise<Stack> {
  const key = specKey(stack.dir, name);
  const spec = launchedSpecs.get(key);
  if (!spec)
    throw new Error(`restartStackProcess: no process called "${name}" was started by startStack in ${stack.dir} here`);
  const old = stack.processes.find((p) => p.name === name);
  if (old && alive(old.pid))
    throw new Error(`restartStackProcess: ${name} (pid ${old.pid}) is still running; kill it first`);
  const n = (restarts.get(key) ?? 0) + 1;
  restarts.set(key, n);
  const file = join(stack.dir, 'stack.json');
  const withProcess = (p: StackProcess): Stack => ({
    ...stack,
    processes: [...stack.processes.filter((q) => q.name !== name), p],
  });
  const replacement = await launch(
    spec,
    stack.dir,
    (p) => writeFileSync(file, JSON.stringify(withProcess(p), null, 2), { mode: 0o600 }),
    `${name}.restart-${n}`,
  );
  const next = withProcess(replacement);
  writeFileSync(file, JSON.stringify(next, null, 2), { mode: 0o600 });
  return next;
}

async function launch(
  spec: Spec,
  dir: string,
  onSpawn: (spawned: StackProcess) => void,
  logName: string = spec.name,
): Promise<StackProcess> {
  const logFile = join(dir, 'logs', `${logName}.log`);
  const fd = openSync(logFile, 'w');
  const child = spawn(process.execPath, [join(ROOT, spec.script), ...(spec.args ?? [])], {
    cwd: ROOT,
    env: { ...process.env, ...spec.env },
    stdio: ['ignore', fd, fd],
    detached: true,
  });
  closeSync(fd);
  child.unref();
  const pid = child.pid as number;
  onSpawn({ name: spec.name, role: spec.role, pid, logFile, ready: '' });
  const ready = await new Promise<string>((resolvePromise, reject) => {
    const started = Date.now();
    const poll = setInterval(() => {
      const text = readFileSync(logFile, 'utf8');
      const line = text.split('\n').find((l) => spec.ready.test(l) && !l.startsWith('{'));
      if (line) {
        clearInterval(poll);
        resolvePromise(line);
      } else if (!alive(pid)) {
        clearInterval(poll);
        reject(
          new Error(
            `${spec.name} exited before it was ready; its log (${logFile}) ends:\n${text.split('\n').slice(-15).join('\n')}`,
          ),
        );
      } else if (Date.now() - started > 90_000) {
        clearInterval(poll);
        reject(new Error(`${spec.name} was not ready within 90 s; see ${logFile}`));
      }
    }, 100);
  });
  return { name: spec.name, role: spec.role, pid, logFile, ready };
}
