import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Admin, Consumer } from '@platformatic/kafka';
import { coordinatorNotReady, retryWhileCoordinatorNotReady } from './coordinator-retry.ts';
import type { KafkaBusLogger } from './options.ts';

/**
 * On a freshly formatted broker the first joins meet a coordinator that is not ready: the first FindCoordinator
 * creates `__consumer_offsets` and answers COORDINATOR_NOT_AVAILABLE, and the next calls may answer
 * COORDINATOR_LOAD_IN_PROGRESS or NOT_COORDINATOR while its partitions load. A client without retries of its own
 * shows those answers; the wrapper waits them out. The broker is this test's own (never the shared one on 9092).
 */
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const home = mkdtempSync(join(tmpdir(), 'orchestron-coordinator-retry-'));
let env: NodeJS.ProcessEnv = {};
let brokers: string[] = [];

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

function kafkaScript(command: 'start' | 'stop'): void {
  const result = spawnSync('bash', ['infra/kafka/kafka.sh', command], { cwd: REPO_ROOT, env, encoding: 'utf8' });
  if (result.status !== 0)
    throw new Error(
      `kafka.sh ${command} for a fresh broker exited ${result.status}:\n${result.stdout}${result.stderr}`,
    );
}

describe('joining a group on a freshly formatted broker', () => {
  beforeAll(async () => {
    const [port, controllerPort] = [await freePort(), await freePort()];
    env = {
      ...process.env,
      ORCHESTRON_KAFKA_HOME: home,
      ORCHESTRON_KAFKA_PORT: String(port),
      ORCHESTRON_KAFKA_CONTROLLER_PORT: String(controllerPort),
    };
    brokers = [`127.0.0.1:${port}`];
    // The local broker's resolved classpath, so Maven is not asked again: only the classpath, no data.
    const cache = join(REPO_ROOT, '.orchestron/kafka/cache');
    if (existsSync(cache)) cpSync(cache, join(home, 'cache'), { recursive: true });
    kafkaScript('start');
    const admin = new Admin({ clientId: 'coordinator-retry-test', bootstrapBrokers: brokers });
    await admin.createTopics({ topics: ['fresh'], partitions: 1, replicas: 1 });
    await admin.close();
  }, 150_000);

  afterAll(() => {
    kafkaScript('stop');
    rmSync(home, { recursive: true, force: true });
  }, 60_000);

  it('meets a coordinator that is not ready, waits it out with backoff, and joins', async () => {
    const answers: string[] = [];
    const warned: unknown[] = [];
    const logger: KafkaBusLogger = {
      info: () => undefined,
      error: () => undefined,
      warn: (_message, fields) => warned.push(fields?.answer),
    };
    let attempt = 0;
    const assigned = await retryWhileCoordinatorNotReady(
      async () => {
        attempt++;
        const consumer = new Consumer({
          clientId: 'coordinator-retry-test',
          groupId: `fresh-${attempt}`,
          bootstrapBrokers: brokers,
          retries: 0,
        });
        try {
          const stream = await consumer.consume({ topics: ['fresh'] });
          const partitions = consumer.assignments?.flatMap((a) => a.partitions) ?? [];
          await stream.close();
          await consumer.close();
          return partitions;
        } catch (error) {
          answers.push(coordinatorNotReady(error) ?? `other: ${String(error)}`);
          await consumer.close(true).catch(() => undefined);
          throw error;
        }
      },
      { group: 'fresh', deadlineMs: 60_000, logger, minDelayMs: 100 },
    );
    expect(assigned).toEqual([0]);
    expect(answers[0]).toBe('COORDINATOR_NOT_AVAILABLE');
    expect(
      answers.every((a) =>
        ['COORDINATOR_NOT_AVAILABLE', 'COORDINATOR_LOAD_IN_PROGRESS', 'NOT_COORDINATOR'].includes(a),
      ),
    ).toBe(true);
    expect(warned).toEqual(answers);
  }, 90_000);
});
