import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from '@jest/globals';
import { Consumer, MessagesStreamFallbackModes, MessagesStreamModes, Producer } from '@platformatic/kafka';
import { createKafkaBus } from '@orchestron/bus-kafka';
import type { KafkaBus } from '@orchestron/bus-kafka';
import { useKafkaBroker } from '@orchestron/bus-kafka/testing';

// Against a real broker: started here when it does not answer; if it cannot be, every test fails (never skips).
const BROKERS = (process.env['ORCHESTRON_KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(',');
const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const RUN = randomUUID().slice(0, 8);
const unique = (name: string): string => `orchestron.test.cli-dlq.${RUN}.${name}.${randomUUID().slice(0, 6)}`;
const DLQ = unique('dlq');
const TEST_TIMEOUT = 90_000;

interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function cli(args: readonly string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['bin/orchestron.mjs', ...args],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, ORCHESTRON_KAFKA_BROKERS: BROKERS.join(','), NO_COLOR: '1' },
        timeout: 60_000,
      },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

const jsonLines = (stdout: string): Record<string, unknown>[] =>
  stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

const needBroker = useKafkaBroker(BROKERS);

describe('orchestron dlq (against Kafka)', () => {
  let bus: KafkaBus | undefined;
  let producer: Producer | undefined;
  let consumer: Consumer | undefined;
  afterAll(async () => {
    await Promise.allSettled([bus?.close(), producer?.close(), consumer?.close(true)]);
  });

  it(
    'lists a dead letter, and replays its original bytes, key and headers to the source topic',
    async () => {
      needBroker();
      const source = unique('source');
      bus = createKafkaBus({
        brokers: BROKERS,
        clientId: `orchestron-test-${RUN}`,
        partitions: 2,
        dlqTopic: DLQ,
        shutdownTimeoutMs: 2_000,
      });
      const subscription = await bus.subscribe(
        { topics: [source], group: unique('g'), onError: () => undefined },
        async () => undefined,
      );
      producer = new Producer({ clientId: `orchestron-test-raw-${RUN}`, bootstrapBrokers: BROKERS });
      // Not JSON, and not even valid UTF-8: only a byte-exact replay gives back the same value.
      const garbage = Buffer.from([0x6e, 0x6f, 0x74, 0x20, 0x6a, 0x73, 0x6f, 0x6e, 0x20, 0x7b, 0xff, 0xfe]);
      await producer.send({
        messages: [
          {
            topic: source,
            key: Buffer.from('run-poison'),
            value: garbage,
            headers: new Map([[Buffer.from('traceparent'), Buffer.from('00-poison-01')]]),
          },
        ],
      });

      // The subscriber dead-letters it asynchronously: poll the CLI until it lists it.
      let letters: Record<string, unknown>[] = [];
      const deadline = Date.now() + 45_000;
      while (letters.length === 0) {
        const listed = await cli(['dlq', 'list', '--dlq-topic', DLQ, '--json', '--topic', source]);
        expect(listed.code).toBe(0);
        letters = jsonLines(listed.stdout);
        if (letters.length === 0) {
          if (Date.now() > deadline)
            throw new Error(`nothing reached ${DLQ} within 45 s; last stderr: ${listed.stderr}`);
          await new Promise((resolve) => setTimeout(resolve, 500));
        }
      }
      await subscription.close();
      expect(letters).toHaveLength(1);
      const letter = letters[0] as {
        reason: string;
        topic: string;
        partition: number;
        offset: number;
        key: string;
        headers: Record<string, string>;
        original: string;
        dlqPartition: number;
        dlqOffset: number;
      };
      expect(letter.reason).toMatch(/WireFormatError: .* is not JSON/);
      expect(letter.topic).toBe(source);
      expect(letter.key).toBe('run-poison');
      expect(letter.headers).toEqual({ traceparent: '00-poison-01' });
      expect(Buffer.from(letter.original, 'base64')).toEqual(garbage);
      expect(typeof letter.dlqPartition).toBe('number');
      expect(typeof letter.dlqOffset).toBe('number');
      const position = `${letter.dlqPartition}:${letter.dlqOffset}`;

      const human = await cli(['dlq', 'list', '--dlq-topic', DLQ]);
      expect(human.code).toBe(0);
      expect(human.stdout).toContain(`${position}  ${source}/${letter.partition}@${letter.offset}  key="run-poison"`);
      expect(human.stdout).toContain('(12 bytes, binary)');

      const dry = await cli(['dlq', 'replay', position, '--dlq-topic', DLQ, '--dry-run']);
      expect(dry.code).toBe(0);
      expect(dry.stdout).toContain(`would republish ${position} -> ${source}`);

      const replayed = await cli(['dlq', 'replay', position, '--dlq-topic', DLQ]);
      expect({ code: replayed.code, stderr: replayed.stderr }).toEqual({
        code: 0,
        stderr: expect.stringContaining(`stay in ${DLQ}`),
      });
      expect(replayed.stdout).toContain(`republished ${position} -> ${source} (key "run-poison", 12 bytes`);

      // A raw consumer sees the original, then (only) the replayed copy: same bytes, key and headers.
      consumer = new Consumer({
        clientId: `orchestron-test-check-${RUN}`,
        groupId: unique('check'),
        bootstrapBrokers: BROKERS,
        autocommit: false,
      });
      const stream = await consumer.consume({
        topics: [source],
        mode: MessagesStreamModes.EARLIEST,
        fallbackMode: MessagesStreamFallbackModes.EARLIEST,
        autocommit: false,
        maxWaitTime: 200,
      });
      const seen: { key: Buffer; value: Buffer; headers: Map<Buffer, Buffer> }[] = [];
      const timer = setTimeout(() => void stream.close(), 30_000);
      for await (const message of stream) {
        seen.push({ key: message.key, value: message.value, headers: message.headers });
        if (seen.length === 2) break;
      }
      clearTimeout(timer);
      expect(seen).toHaveLength(2);
      for (const message of seen) {
        expect(message.value).toEqual(garbage);
        expect(message.key.toString('utf8')).toBe('run-poison');
        expect([...message.headers].map(([k, v]) => [k.toString('utf8'), v.toString('utf8')])).toEqual([
          ['traceparent', '00-poison-01'],
        ]);
      }
    },
    TEST_TIMEOUT,
  );

  it(
    'exits 2 naming a position that is not a dead letter, and publishes nothing',
    async () => {
      needBroker();
      const result = await cli(['dlq', 'replay', '0:987654', '--dlq-topic', DLQ]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('no dead letter at 0:987654');
    },
    TEST_TIMEOUT,
  );

  it(
    'says so when the DLQ is empty (even when its topic does not exist yet), exit 0',
    async () => {
      needBroker();
      const result = await cli(['dlq', 'list', '--dlq-topic', unique('never-written')]);
      expect(result).toEqual({ code: 0, stdout: '', stderr: expect.stringContaining('no dead letters in') });
    },
    TEST_TIMEOUT,
  );

  it(
    'exits 4 naming the brokers and how to start Kafka when none answers',
    async () => {
      const result = await cli(['dlq', 'list', '--brokers', '127.0.0.1:1']);
      expect(result.code).toBe(4);
      expect(result.stderr).toContain('cannot reach Kafka at 127.0.0.1:1');
      expect(result.stderr).toContain('npm run kafka:start');
    },
    TEST_TIMEOUT,
  );
});
