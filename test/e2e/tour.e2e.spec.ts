import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, startServer } from '../support/server-process.ts';
import type { CliResult, ServerProcess } from '../support/server-process.ts';

/** The README's tour, through the real CLI against the real server process. */
describe('the five-minute tour', () => {
  let server: ServerProcess;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'orchestron-tour-'));
    server = await startServer(dataDir, { ORCHESTRON_WORK_MS: '10' });
  });
  afterAll(async () => {
    await server.kill('SIGTERM');
  });

  const cli = (...args: string[]): Promise<CliResult> => runCli(server, args);
  const lastJson = (stdout: string) =>
    JSON.parse(stdout.trim().split('\n').at(-1) as string) as {
      id: string;
      status: string;
      steps: { id: string; status: string }[];
    };

  it('runs the example to completion: exit 0', async () => {
    const result = await cli('run', 'examples/employee-onboarding.yaml', '--input', '{"email":"a@b.c"}', '--wait');
    expect(result.stdout).toMatch(/completed/);
    expect(result.code).toBe(0);
  });

  it("compensates when create-workspace always fails, with create-account's compensation in the history", async () => {
    const result = await cli(
      'run',
      'examples/employee-onboarding.yaml',
      '--input',
      '{"email":"a@b.c","simulate":{"create-workspace":"fail-always"}}',
      '--wait',
      '--json',
    );
    const run = lastJson(result.stdout);
    expect(run.status).toBe('compensated');
    expect(result.code).toBe(1);
    const history = await cli('history', run.id);
    expect(history.stdout).toMatch(/CompensationCompleted.*create-account|create-account.*CompensationCompleted/);
  });

  it('waits at budget-approval for a manager until approved, then completes', async () => {
    const waiting = await cli(
      'run',
      'examples/employee-onboarding.yaml',
      '--input',
      '{"email":"m@b.c","manager":true}',
      '--wait',
      '--json',
    );
    const run = lastJson(waiting.stdout);
    expect(waiting.code).toBe(3);
    expect(run.steps.find((s) => s.id === 'budget-approval')?.status).toBe('waiting_approval');
    const approved = await cli('approve', run.id, '--step', 'budget-approval', '--reason', 'budget ok');
    expect(approved.code).toBe(0);
    for (let i = 0; i < 100; i++) {
      const status = await cli('status', run.id, '--json');
      if (lastJson(status.stdout).status !== 'running') {
        expect(lastJson(status.stdout).status).toBe('completed');
        expect(status.code).toBe(0);
        return;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('the approved run did not complete');
  });

  it('rejects a definition with a cycle: exit 2, naming the cycle', async () => {
    const file = join(dataDir, 'cycle.yaml');
    writeFileSync(
      file,
      'id: loop\nversion: 1\nsteps:\n  a: { worker: w, needs: [c] }\n  b: { worker: w, needs: [a] }\n  c: { worker: w, needs: [b] }\n',
    );
    const result = await cli('run', file, '--input', '{}', '--wait');
    expect(result.code).toBe(2);
    expect(`${result.stdout}${result.stderr}`).toMatch(/cycle: [abc] → [abc] → [abc] → [abc]/);
  });

  it('refuses an unauthenticated call with 401', async () => {
    const response = await fetch(`${server.url}/v1/runs`);
    expect(response.status).toBe(401);
  });
});
