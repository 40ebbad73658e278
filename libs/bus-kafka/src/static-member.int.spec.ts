import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from '@jest/globals';
import { createKafkaBus } from './index.ts';
import type { KafkaBus } from './index.ts';
import { useKafkaBroker } from './testing/index.ts';

// Against a real broker, with each member in a process of its own so it can die by SIGKILL.
const BROKERS = (process.env['ORCHESTRON_KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(',');
const CHILD = fileURLToPath(new URL('./testing/static-member-child.ts', import.meta.url));
// Longer than the test may take: a partition that moves within the test moved without waiting for the session.
const SESSION_MS = 45_000;
const needBroker = useKafkaBroker(BROKERS);

interface Member {
  readonly process: ChildProcess;
  /** Resolves with the elapsed ms when the member has seen a message on every one of `partitions`. */
  readonly sawAll: (partitions: number) => Promise<number>;
}

function member(topic: string, group: string, name: string): Member {
  const started = Date.now();
  const child = spawn(process.execPath, [CHILD, BROKERS.join(','), topic, group, name, String(SESSION_MS)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const seen = new Set<string>();
  let notify = (): void => undefined;
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    for (const line of chunk.split('\n')) if (line.startsWith('message ')) seen.add(line);
    notify();
  });
  return {
    process: child,
    sawAll: (partitions) =>
      new Promise((resolve) => {
        notify = () => {
          if (seen.size >= partitions) resolve(Date.now() - started);
        };
        notify();
      }),
  };
}

describe('kafka static membership (staticMemberName)', () => {
  const children: ChildProcess[] = [];
  let producer: KafkaBus | undefined;
  let feed: ReturnType<typeof setInterval> | undefined;
  // Also after a test that timed out: nothing may keep Jest's process alive.
  afterEach(async () => {
    clearInterval(feed);
    for (const child of children.splice(0)) child.kill('SIGKILL');
    await producer?.close();
  });

  it('hands a killed member its partitions back at once when it restarts under its name, not after its session', async () => {
    needBroker();
    const id = randomUUID().slice(0, 8);
    const topic = `orchestron.test.static.${id}`;
    const group = `orchestron-test-static-${id}`;
    producer = createKafkaBus({ brokers: BROKERS, clientId: 'orchestron-static-producer', partitions: 4 });
    await producer.ensureTopics([topic]);
    feed = setInterval(() => {
      const batch = Array.from({ length: 16 }, (_, i) => ({ key: `key-${i}-${randomUUID()}`, value: { i } }));
      void producer?.publish(topic, batch).catch(() => undefined);
    }, 50);
    const first = member(topic, group, 'orchestrator-1');
    children.push(first.process);
    await first.sawAll(4);
    first.process.kill('SIGKILL');
    const replacement = member(topic, group, 'orchestrator-1');
    children.push(replacement.process);
    const ms = await replacement.sawAll(4);
    process.stdout.write(`static member back on all 4 partitions ${ms} ms after its replacement started\n`);
    expect(ms).toBeLessThan(SESSION_MS);
  }, 40_000);

  it('refuses a member name Kafka would not take, naming the setting', () => {
    expect(() => createKafkaBus({ brokers: BROKERS, clientId: 'x', staticMemberName: 'two words' })).toThrow(
      /staticMemberName must be 1 to 200 letters, digits, dots, dashes or underscores; got "two words"/,
    );
  });
});
