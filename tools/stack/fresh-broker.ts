// A private, freshly formatted Kafka broker for one test: its own home and ports, never the shared one on 9092.
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { alive, freePorts } from './host.ts';
import { ROOT } from './root.ts';

const SHARED_PORTS = new Set([9092, 9093]);
/** The local broker's resolved classpath, if it has run here: read, never written. */
const SHARED_CACHE = join(ROOT, '.orchestron/kafka/cache');

export interface FreshBroker {
  readonly brokers: readonly string[];
  readonly home: string;
  readonly port: number;
  /** How long infra/kafka/kafka.sh took to format and start it, ms. */
  readonly startMs: number;
  /** Stops the broker (only this one: kafka.sh finds it by its home) and deletes its home. */
  stop(): Promise<void>;
  /**
   * Stops the broker (SIGTERM, a controlled shutdown), keeps its data, and starts it again; resolves once it answers,
   * with when it went down and when it answered again (epoch ms).
   */
  restart(): Promise<{ readonly downAt: number; readonly readyAt: number }>;
  /**
   * kill -9 of the broker (no controlled shutdown), `downMs` of nothing, then starts it again on its data; resolves
   * once it answers, with when it died and when it answered again (epoch ms).
   */
  crash(downMs?: number): Promise<{ readonly downAt: number; readonly readyAt: number }>;
}

export interface FreshBrokerOptions {
  /** A directory that does not exist yet, or is empty: the broker's data, logs and config. */
  readonly home: string;
  /** Broker and controller ports. Default: two free ones. 9092 and 9093 (the shared broker's) are refused. */
  readonly port?: number;
  readonly controllerPort?: number;
  /**
   * A directory of resolved classpaths (kafka.sh's `cache`), copied into the new home, so each broker does not ask
   * Maven again; filled from the first broker's when it does not exist. Only the classpath, never data. Without
   * it, the local broker's (.orchestron/kafka/cache) is copied when there is one.
   */
  readonly classpathCache?: string;
  /** The broker's `group.min.session.timeout.ms`: the shortest session a consumer may ask for. Default Kafka's, 6 s. */
  readonly groupMinSessionTimeoutMs?: number;
}

/** Formats a new broker in `home` with infra/kafka/kafka.sh and starts it; resolves once it answers. */
export async function startFreshBroker(options: FreshBrokerOptions): Promise<FreshBroker> {
  const [freeBroker, freeController] = await freePorts(2);
  const port = options.port ?? (freeBroker as number);
  const controllerPort = options.controllerPort ?? (freeController as number);
  for (const p of [port, controllerPort])
    if (SHARED_PORTS.has(p)) throw new Error(`a fresh broker must not use port ${p}: the shared broker's`);
  if (existsSync(join(options.home, 'data'))) throw new Error(`${options.home} already holds a broker's data`);
  mkdirSync(options.home, { recursive: true });
  const cache = options.classpathCache;
  const source = [cache, SHARED_CACHE].find((c) => c !== undefined && existsSync(c));
  if (source !== undefined) cpSync(source, join(options.home, 'cache'), { recursive: true });
  const env = {
    ...process.env,
    ORCHESTRON_KAFKA_HOME: options.home,
    ORCHESTRON_KAFKA_PORT: String(port),
    ORCHESTRON_KAFKA_CONTROLLER_PORT: String(controllerPort),
    ...(options.groupMinSessionTimeoutMs === undefined
      ? {}
      : { ORCHESTRON_KAFKA_GROUP_MIN_SESSION_TIMEOUT_MS: String(options.groupMinSessionTimeoutMs) }),
  };
  const began = Date.now();
  const started = await kafkaScript('start', env);
  if (started.code !== 0) {
    await kafkaScript('stop', env);
    throw new Error(`a fresh broker on ${port} did not start (kafka.sh exited ${started.code}):\n${started.tail}`);
  }
  const startMs = Date.now() - began;
  if (cache !== undefined && !existsSync(cache)) cpSync(join(options.home, 'cache'), cache, { recursive: true });
  return {
    brokers: [`127.0.0.1:${port}`],
    home: options.home,
    port,
    startMs,
    async stop() {
      const stopped = await kafkaScript('stop', env);
      if (stopped.code !== 0) throw new Error(`the fresh broker on ${port} did not stop:\n${stopped.tail}`);
      rmSync(options.home, { recursive: true, force: true });
    },
    async restart() {
      const stopped = await kafkaScript('stop', env);
      if (stopped.code !== 0) throw new Error(`the fresh broker on ${port} did not stop:\n${stopped.tail}`);
      const downAt = Date.now();
      const again = await kafkaScript('start', env);
      if (again.code !== 0) throw new Error(`the fresh broker on ${port} did not start again:\n${again.tail}`);
      return { downAt, readyAt: Date.now() };
    },
    async crash(downMs = 0) {
      const pid = Number(readFileSync(join(options.home, 'kafka.pid'), 'utf8').trim());
      if (!Number.isInteger(pid) || !alive(pid)) throw new Error(`the fresh broker on ${port} is not running`);
      process.kill(pid, 'SIGKILL');
      while (alive(pid)) await new Promise((resolve) => setTimeout(resolve, 20));
      const downAt = Date.now();
      await new Promise((resolve) => setTimeout(resolve, downMs));
      const again = await kafkaScript('start', env);
      if (again.code !== 0) throw new Error(`the fresh broker on ${port} did not start again:\n${again.tail}`);
      return { downAt, readyAt: Date.now() };
    },
  };
}

function kafkaScript(
  command: 'start' | 'stop',
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; tail: string }> {
  return new Promise((resolvePromise) => {
    let text = '';
    const child = spawn('bash', [join(ROOT, 'infra/kafka/kafka.sh'), command], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (chunk: Buffer): void => {
      text = (text + chunk.toString('utf8')).slice(-4_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', (error) => resolvePromise({ code: -1, tail: `${text}\n${String(error)}` }));
    child.on('close', (code) => resolvePromise({ code, tail: text.split('\n').slice(-20).join('\n') }));
  });
}
