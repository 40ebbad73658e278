// A Kafka broker of a test's own (infra/kafka/kafka.sh with its own home and ports), so the test may kill it without
// touching the shared broker on 9092 that other tests use.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alive, freePorts } from '../../tools/stack/host.ts';
import { ROOT } from '../../tools/stack/root.ts';

export interface PrivateKafka {
  /** host:port, for ORCHESTRON_KAFKA_BROKERS. */
  readonly brokers: string;
  readonly home: string;
  /** Starts the broker (formats it the first time) and resolves once it answers; the milliseconds it took. */
  start(): Promise<number>;
  /** SIGKILL, no controlled shutdown; resolves once the process is gone. */
  kill(): Promise<void>;
  /** Stops it if it runs, then deletes its data. */
  destroy(): Promise<void>;
}

export async function privateKafka(name: string): Promise<PrivateKafka> {
  const [port, controllerPort] = (await freePorts(2)) as [number, number];
  const home = mkdtempSync(join(tmpdir(), `orchestron-${name}-kafka-`));
  const env = {
    ...process.env,
    ORCHESTRON_KAFKA_HOME: home,
    ORCHESTRON_KAFKA_PORT: String(port),
    ORCHESTRON_KAFKA_CONTROLLER_PORT: String(controllerPort),
  };
  const script = (command: 'start' | 'stop'): Promise<void> =>
    new Promise((resolve, reject) => {
      let output = '';
      // Asynchronous on purpose: the test keeps driving the API while the broker comes back.
      const child = spawn('bash', [join(ROOT, 'infra/kafka/kafka.sh'), command], {
        cwd: ROOT,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const keep = (chunk: Buffer): void => void (output = (output + chunk.toString('utf8')).slice(-3_000));
      child.stdout.on('data', keep);
      child.stderr.on('data', keep);
      child.on('error', reject);
      child.on('close', (code) =>
        code === 0 ? resolve() : reject(new Error(`kafka.sh ${command} (home ${home}) exited ${code}:\n${output}`)),
      );
    });
  const pid = (): number | null => {
    try {
      return Number(readFileSync(join(home, 'kafka.pid'), 'utf8').trim());
    } catch {
      return null;
    }
  };
  return {
    brokers: `127.0.0.1:${port}`,
    home,
    async start() {
      const began = Date.now();
      await script('start');
      return Date.now() - began;
    },
    async kill() {
      const target = pid();
      if (target === null || !alive(target)) throw new Error(`the private broker in ${home} is not running`);
      process.kill(target, 'SIGKILL');
      while (alive(target)) await new Promise((r) => setTimeout(r, 20));
    },
    async destroy() {
      // kafka.sh stop checks that the pid is its broker's, and kills it if it does not stop in time.
      await script('stop');
      rmSync(home, { recursive: true, force: true });
    },
  };
}
