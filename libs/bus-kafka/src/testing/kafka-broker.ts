import { beforeAll } from '@jest/globals';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Admin } from '@platformatic/kafka';

const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const START_COMMAND = 'npm run kafka:start';

/** Whether a Kafka broker answers a metadata request at `brokers` within `timeoutMs`. */
export async function kafkaAnswers(brokers: readonly string[], timeoutMs = 3_000): Promise<boolean> {
  const admin = new Admin({
    clientId: 'orchestron-test-probe',
    bootstrapBrokers: [...brokers],
    retries: 0,
    timeout: timeoutMs,
    connectTimeout: timeoutMs,
  });
  try {
    await admin.metadata({ topics: [] });
    return true;
  } catch {
    return false;
  } finally {
    await admin.close().catch(() => undefined);
  }
}

/**
 * Makes sure the test broker runs: if nothing answers on `brokers`, starts it with infra/kafka/kafka.sh (which
 * waits until it answers) and checks again. Throws an error that says what to do when it cannot; tests that
 * need Kafka fail with it, they never skip.
 */
export async function ensureKafkaBroker(
  brokers: readonly string[] = ['127.0.0.1:9092'],
  startTimeoutMs = 170_000,
): Promise<void> {
  if (await kafkaAnswers(brokers)) return;
  const output = await runStartScript(startTimeoutMs);
  if (output.code === 0 && (await kafkaAnswers(brokers, 10_000))) return;
  const outcome =
    output.code === null
      ? `it did not finish within ${startTimeoutMs} ms`
      : output.code === 0
        ? 'it exited 0 but nothing answers there'
        : `it exited ${output.code}`;
  throw new Error(
    `Kafka is not reachable on ${brokers.join(',')}, and starting it with infra/kafka/kafka.sh failed: ${outcome}. ` +
      `Start it with \`${START_COMMAND}\` (needs Java 17+ and Maven) and run the tests again.\n` +
      `Last lines of infra/kafka/kafka.sh start:\n${output.tail}`,
  );
}

/** The script starts its broker where ORCHESTRON_KAFKA_PORT says (default 9092), whatever `brokers` names. */
function runStartScript(timeoutMs: number): Promise<{ code: number | null; tail: string }> {
  return new Promise((resolve) => {
    let text = '';
    let child;
    try {
      child = spawn('bash', ['infra/kafka/kafka.sh', 'start'], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (error) {
      resolve({ code: -1, tail: String(error) });
      return;
    }
    const keep = (chunk: Buffer): void => {
      text = (text + chunk.toString('utf8')).slice(-4_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      resolve({ code: null, tail: text });
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ code: -1, tail: `${text}\n${String(error)}` });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, tail: text.split('\n').slice(-20).join('\n') });
    });
  });
}

/**
 * For a test file that needs the broker: starts it in a `beforeAll` when it does not answer, and returns a
 * check each test calls first, which throws the reason the broker could not be started (a failure, never a skip).
 */
export function useKafkaBroker(brokers: readonly string[]): () => void {
  let problem: unknown;
  beforeAll(async () => {
    try {
      await ensureKafkaBroker(brokers);
    } catch (error) {
      problem = error;
    }
  }, 180_000);
  return () => {
    if (problem !== undefined) throw problem;
  };
}
