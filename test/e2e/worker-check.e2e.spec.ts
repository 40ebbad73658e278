import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { topicNames } from '@orchestron/bus';
import { createKafkaBus } from '@orchestron/bus-kafka';
import { useKafkaBroker } from '@orchestron/bus-kafka/testing';

// `orchestron worker-check` as its own process against live workers as their own processes, on the real broker:
// the bash + kcat example (conforming, and broken on purpose) and the SDK's example workers (apps/workers).
const REPO = fileURLToPath(new URL('../../', import.meta.url));
const BROKERS = (process.env['ORCHESTRON_KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(',');
const PG_URL = process.env['ORCHESTRON_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const SCHEMA = `orchestron_workercheck_${randomBytes(4).toString('hex')}`;
const SCENARIOS = [
  'execute',
  'duplicate',
  'duplicate-in-flight',
  'stale-attempt',
  'past-deadline',
  'compensate',
  'heartbeats',
];
const needBroker = useKafkaBroker(BROKERS);
const stateDir = mkdtempSync(join(tmpdir(), 'orchestron-kcat-worker-'));
const env = { ...process.env, NODE_OPTIONS: '', NO_COLOR: '1', ORCHESTRON_KAFKA_BROKERS: BROKERS.join(',') };

afterAll(async () => {
  rmSync(stateDir, { recursive: true, force: true });
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`DROP SCHEMA IF EXISTS "${SCHEMA}" CASCADE`);
  await admin.end();
});

/** A prefix of this test's own, so nothing here meets a real run or another test. */
const newPrefix = (): string => `wc${randomBytes(3).toString('hex')}.`;

/** What registering a definition naming the worker does: its command topic exists before the worker starts. */
async function register(prefix: string, worker: string): Promise<void> {
  const names = topicNames(prefix);
  const bus = createKafkaBus({ brokers: BROKERS, clientId: `worker-check-e2e-${prefix}`, partitions: 3 });
  try {
    await bus.ensureTopics([names.commands(worker), names.stepEvents, names.deadLetters]);
  } finally {
    await bus.close();
  }
}

interface Running {
  readonly child: ChildProcess;
  readonly output: () => string;
  stop(): Promise<void>;
}

/** Starts a process in a group of its own (so a kill reaches kcat too) and resolves once `ready` shows in its output. */
async function startProcess(command: string, args: string[], extraEnv: Record<string, string>, ready: string) {
  const child = spawn(command, args, { cwd: REPO, env: { ...env, ...extraEnv }, detached: true, stdio: 'pipe' });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const take = (chunk: Buffer): void => {
      output += chunk.toString();
      if (output.includes(ready)) resolve();
    };
    child.stdout?.on('data', take);
    child.stderr?.on('data', take);
    void exited.then((code) => reject(new Error(`${command} exited ${code} before it was ready:\n${output}`)));
  });
  const signal = (name: NodeJS.Signals): void => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, name);
    } catch {
      // already gone
    }
  };
  return {
    child,
    output: () => output,
    async stop() {
      signal('SIGTERM');
      const timer = setTimeout(() => signal('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
      signal('SIGKILL');
    },
  } satisfies Running;
}

function kcatWorker(prefix: string, worker: string, fault = ''): Promise<Running> {
  return startProcess(
    'bash',
    ['examples/workers/kcat-worker.sh', worker],
    {
      ORCHESTRON_TOPIC_PREFIX: prefix,
      KCAT_WORKER_STATE: join(stateDir, `${prefix}${worker}`),
      KCAT_WORKER_FAULT: fault,
    },
    'consuming',
  );
}

function workerCheck(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['bin/orchestron.mjs', 'worker-check', ...args], { cwd: REPO, env });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.once('close', (status) => resolve({ status, stdout, stderr })));
}

describe('orchestron worker-check against live workers', () => {
  it('passes the bash + kcat example worker in every scenario, and exits 0', async () => {
    needBroker();
    const prefix = newPrefix();
    await register(prefix, 'mail');
    const worker = await kcatWorker(prefix, 'mail');
    try {
      const result = await workerCheck('--worker', 'mail', '--topic-prefix', prefix);
      expect({ status: result.status, lines: result.stdout.trim().split('\n') }).toEqual({
        status: 0,
        lines: SCENARIOS.map((s) => `pass  ${s}`),
      });
      expect(result.stderr).toContain('worker "mail" passed all 7 scenarios');
    } catch (error) {
      throw new Error(`${String(error)}\nworker output:\n${worker.output()}`, { cause: error });
    } finally {
      await worker.stop();
    }
  }, 90_000);

  it('fails a kcat worker that runs duplicates and ignores deadlines, naming each violation, and exits 1', async () => {
    needBroker();
    const prefix = newPrefix();
    await register(prefix, 'sloppy');
    const worker = await kcatWorker(prefix, 'sloppy', 'run-duplicates,ignore-deadline');
    try {
      const result = await workerCheck(
        '--worker',
        'sloppy',
        '--topic-prefix',
        prefix,
        '--scenario',
        'execute',
        'duplicate',
        'past-deadline',
      );
      const lines = result.stdout.trim().split('\n');
      expect(result.status).toBe(1);
      expect(lines).toHaveLength(3);
      expect(lines[0]).toBe('pass  execute');
      expect(lines[1]).toMatch(
        /^FAIL {2}duplicate: executed twice \(2 outcome reports for key worker-check-\w+-duplicate\/check\/1 with 2 different output\.execution ids\)/,
      );
      // A broker slow enough to deliver the command after its deadline also shows the sloppy worker starting it late.
      expect(lines[2]).toMatch(
        /^FAIL {2}past-deadline: (sent step\.started: it started an attempt past its deadline; )?ran a command past its deadline \(step\.completed; expected step\.failed STEP\.DEADLINE_EXCEEDED\)$/,
      );
      expect(result.stderr).toContain('worker "sloppy" failed 2 of 3 scenarios');
    } finally {
      await worker.stop();
    }
  }, 60_000);

  it("passes the SDK's example worker (apps/workers, PostgreSQL ledger) in every scenario", async () => {
    needBroker();
    const prefix = newPrefix();
    const worker = await startProcess(
      process.execPath,
      ['apps/workers/src/main.ts', '--worker', 'mail', '--instance', 'worker-check-e2e'],
      { ORCHESTRON_TOPIC_PREFIX: prefix, ORCHESTRON_PG_SCHEMA: SCHEMA, ORCHESTRON_KAFKA_SESSION_TIMEOUT_MS: '6000' },
      'Orchestron workers ready',
    );
    try {
      const result = await workerCheck('--worker', 'mail', '--topic-prefix', prefix, '--json');
      const results = result.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { scenario: string; ok: boolean; violations: string[] });
      expect(results.map((r) => ({ scenario: r.scenario, violations: r.violations }))).toEqual(
        SCENARIOS.map((scenario) => ({ scenario, violations: [] })),
      );
      expect(result.status).toBe(0);
    } finally {
      await worker.stop();
    }
  }, 90_000);
});
