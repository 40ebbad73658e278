import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { alive, ROOT, startStack, stopStack } from '../../tools/stack/stack.ts';
import { readStackState } from '../../tools/stack/services.ts';
import type { Stack } from '../../tools/stack/stack.ts';
import { startFreshBroker } from '../../tools/stack/fresh-broker.ts';
import type { FreshBroker } from '../../tools/stack/fresh-broker.ts';
import { completePayment, startPayment, waitForEnd } from '../../tools/stack/stack-runs.ts';

/**
 * The stack on a freshly formatted private broker (the short form of npm run test:stack-starts), and one service of
 * it killed and restarted by the operator's commands, from another process: a run that needs governance waits while
 * governance is down and completes once `stack:restart governance` has brought it back. The orchestrator runs with a
 * warm standby (ORCHESTRON_STANDBY=1), which takes over when the orchestrator is killed.
 */
const PG_URL = process.env.ORCHESTRON_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const SCHEMA = `stack_restart_${process.pid}_${Date.now().toString(36)}`;
const TAG = `${process.pid}-${Date.now().toString(36)}`;

/** `npm run stack:<command>` as an operator types it, against this test's stack directory. */
function stackCommand(dir: string, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [join(ROOT, 'tools/stack/main.ts'), ...args, '--dir', dir], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('the stack starts on a fresh broker, and one of its services can be killed and restarted', () => {
  const root = mkdtempSync(join(tmpdir(), 'orchestron-stack-restart-'));
  const dir = join(root, 'stack');
  let broker: FreshBroker | undefined;
  let stack: Stack | undefined;
  let passed = 0;

  beforeAll(async () => {
    broker = await startFreshBroker({ home: join(root, 'broker') });
    stack = await startStack({
      dir,
      brokers: broker.brokers,
      pgUrl: PG_URL,
      pgSchema: SCHEMA,
      apiPort: 0,
      workMs: 10,
      orchestrators: 1,
      staticMembers: true,
      standbys: true,
      workerInstances: 1,
      workers: ['payments'],
      collector: false,
      log: () => undefined,
    });
  }, 150_000);

  afterAll(async () => {
    await stopStack(dir, () => undefined).catch(() => undefined);
    await broker?.stop();
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${SCHEMA}" CASCADE`);
    await client.end();
    if (passed === 6) rmSync(root, { recursive: true, force: true });
    else process.stdout.write(`stack restart e2e: kept the logs in ${dir}/logs\n`);
  }, 60_000);

  it('serves a run on the fresh broker', async () => {
    await completePayment(stack as Stack, `first-${TAG}`);
    passed++;
  }, 60_000);

  it('records how to start each service, without the API keys, readable by the owner only', () => {
    const file = join(dir, 'services.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const text = readFileSync(file, 'utf8');
    const recorded = JSON.parse(text) as { name: string; env: Record<string, string> }[];
    expect(recorded.map((s) => s.name).sort()).toEqual([
      'api',
      'governance',
      'orchestrator-1',
      'orchestrator-1-standby',
      'payments-1',
    ]);
    for (const key of Object.values((stack as Stack).keys)) expect(text).not.toContain(key);
    const api = recorded.find((s) => s.name === 'api');
    expect(api?.env.PORT).toBe(new URL((stack as Stack).url).port);
    expect(api?.env.ORCHESTRON_KAFKA_BROKERS).toBe(broker?.brokers.join(','));
    passed++;
  });

  it('refuses an unknown service, naming the ones there are, and explains itself with --help', () => {
    const wrong = stackCommand(dir, 'restart', 'governance; rm -rf /');
    expect(wrong.status).toBe(2);
    expect(wrong.stderr).toContain('no service called "governance; rm -rf /"');
    expect(wrong.stderr).toContain('orchestrator-1, governance, payments-1, orchestrator-1-standby, api');
    expect(stackCommand(dir, 'kill').status).toBe(2);
    expect(stackCommand(dir, 'kill', 'governance', '--signal', 'SIGSEGV').status).toBe(2);
    const help = stackCommand(dir, '--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('npm run stack:restart <service>');
    passed++;
  });

  it('kill -9 governance: a run waits for it; restart governance: the run completes', async () => {
    const current = stack as Stack;
    const governance = current.processes.find((p) => p.name === 'governance');
    const killed = stackCommand(dir, 'kill', 'governance');
    expect(killed.stderr).toBe('');
    expect(killed.status).toBe(0);
    expect(alive(governance?.pid as number)).toBe(false);

    const runId = await startPayment(current, `during-${TAG}`);
    expect(await waitForEnd(current, runId, 3_000)).toBeUndefined();

    const restarted = stackCommand(dir, 'restart', 'governance');
    expect(restarted.stderr).toBe('');
    expect(restarted.status).toBe(0);
    expect(restarted.stdout).toMatch(/restarted governance: pid \d+ — governance ready/);
    expect(await waitForEnd(current, runId, 60_000)).toBe('completed');

    const state = JSON.parse(readFileSync(join(dir, 'stack.json'), 'utf8')) as Stack;
    const replacement = state.processes.find((p) => p.name === 'governance');
    expect(replacement?.pid).not.toBe(governance?.pid);
    expect(alive(replacement?.pid as number)).toBe(true);
    expect(existsSync(join(dir, 'logs', 'governance.restart-1.log'))).toBe(true);
    passed++;
  }, 120_000);

  it('restart of a running API stops it first and brings it back on the same address', async () => {
    const current = stack as Stack;
    const before = current.processes.find((p) => p.name === 'api');
    const restarted = stackCommand(dir, 'restart', 'api');
    expect(restarted.stderr).toBe('');
    expect(restarted.status).toBe(0);
    expect(restarted.stdout).toContain(`stopped api (pid ${before?.pid})`);
    expect(restarted.stdout).toContain(`listening on ${current.url}`);
    expect(alive(before?.pid as number)).toBe(false);
    await completePayment(current, `after-api-${TAG}`);
    passed++;
  }, 120_000);

  it('kill -9 the orchestrator: its standby takes the name and the partitions, runs complete, and a new one stands by', async () => {
    const before = stack as Stack;
    const standby = before.processes.find((p) => p.name === 'orchestrator-1-standby');
    expect(readFileSync(standby?.logFile as string, 'utf8')).toContain('orchestrator orchestrator-1 standing by');
    // As an operator types it: with a standby, kill waits for the takeover and starts a new standby.
    const killed = stackCommand(dir, 'kill', 'orchestrator-1');
    expect(killed.stderr).toBe('');
    expect(killed.status).toBe(0);
    const tookOver = /orchestrator-1-standby \(pid (\d+)\) took over as orchestrator-1 (\d+) ms after it ended/.exec(
      killed.stdout,
    );
    expect(Number(tookOver?.[1])).toBe(standby?.pid);
    const after: Stack = { ...before, processes: readStackState(dir).processes };
    stack = after;
    expect(after.processes.find((p) => p.name === 'orchestrator-1')?.pid).toBe(standby?.pid);
    await completePayment(after, `after-takeover-${TAG}`);
    const fresh = after.processes.find((p) => p.name === 'orchestrator-1-standby');
    expect(killed.stdout).toContain(`a new orchestrator-1-standby stands by (pid ${fresh?.pid})`);
    expect(fresh?.pid).not.toBe(standby?.pid);
    expect(alive(fresh?.pid as number)).toBe(true);
    expect(fresh?.ready).toContain('standing by');
    const started = readFileSync(standby?.logFile as string, 'utf8')
      .split('\n')
      .find((line) => line.includes('"orchestrator started"'));
    expect(started).toMatch(/"standby":\d+/);
    process.stdout.write(`stack restart e2e: the standby answered ${tookOver?.[2]} ms after the kill; ${started}\n`);
    passed++;
  }, 120_000);
});
