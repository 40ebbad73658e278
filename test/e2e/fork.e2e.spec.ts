import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, startServer } from '../support/server-process.ts';
import type { CliResult, ServerProcess } from '../support/server-process.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** `orchestron fork`, through the real CLI against the real server process (docs/operators.md#fork). */
describe('fork, through the CLI', () => {
  let server: ServerProcess;

  beforeAll(async () => {
    server = await startServer(mkdtempSync(join(tmpdir(), 'orchestron-fork-')), { ORCHESTRON_WORK_MS: '10' });
  });
  afterAll(async () => {
    await server.kill('SIGTERM');
  });

  const cli = (...args: string[]): Promise<CliResult> => runCli(server, args);
  const lastJson = (stdout: string): Json => JSON.parse(stdout.trim().split('\n').at(-1) as string) as Json;
  const settled = async (id: string): Promise<Json> => {
    let run: Json = {};
    for (let i = 0; i < 100; i++) {
      run = lastJson((await cli('status', id, '--json')).stdout);
      if (['completed', 'failed', 'compensated', 'cancelled'].includes(run.status as string)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    return run;
  };

  let parent: Json;
  let events: Json[];
  beforeAll(async () => {
    const input = { email: 'f@b.c', simulate: { 'create-workspace': 'fail-terminal' } };
    parent = lastJson(
      (await cli('run', 'examples/employee-onboarding.yaml', '--input', JSON.stringify(input), '--wait', '--json'))
        .stdout,
    );
    events = lastJson((await cli('history', parent.id as string, '--json')).stdout).events as Json[];
  });

  it('forks a compensated run before its failure with a fixed input: only what was not done runs, and it completes', async () => {
    expect(parent.status).toBe('compensated');
    const at = events.findIndex((e) => e.type === 'StepCompleted' && e.data.stepId === 'create-account');
    const forked = await cli(
      'fork',
      parent.id as string,
      '--at',
      String(at),
      '--input',
      JSON.stringify({ email: 'f@b.c' }),
      '--reason',
      'workspace fixed',
    );
    expect(forked.stderr).toBe('');
    expect(forked.code).toBe(0);
    const id = /started run (\S+),/.exec(forked.stdout)?.[1] as string;
    expect(id).toBeDefined();
    expect(id).not.toBe(parent.id);
    expect(forked.stdout).toContain(`forked from run ${parent.id as string} at revision ${at}: workspace fixed`);
    const child = await settled(id);
    expect(child.status).toBe('completed');
    expect(child.forkedFrom).toEqual({ runId: parent.id, revision: at, reason: 'workspace fixed' });
    const account = (s: Json): Json => (s.steps as Json[]).find((x) => x.id === 'create-account') as Json;
    // Not run again: the parent's output, no attempt of the fork's own.
    expect(account(child)).toMatchObject({ status: 'completed', attempt: 0, output: account(parent).output });
    const history = (await cli('history', id)).stdout;
    expect(history).toContain(`forked-from=${parent.id as string}@${at}`);
    expect(history).not.toMatch(/StepDispatched +create-account/);
    // The parent is unchanged.
    expect(lastJson((await cli('history', parent.id as string, '--json')).stdout).events).toHaveLength(events.length);
  });

  it('refuses a revision past the end (exit 2, naming at), one that is not a number, and an unknown run', async () => {
    const past = await cli('fork', parent.id as string, '--at', String(events.length));
    expect(past.code).toBe(2);
    expect(past.stderr).toContain(`COMMAND.INVALID: at ${events.length} is past the run's newest revision`);
    const nan = await cli('fork', parent.id as string, '--at', 'three');
    expect(nan.code).toBe(2);
    expect(nan.stderr).toContain('--at must be a revision of the run');
    const unknown = await cli('fork', 'no-such-run', '--at', '1');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('RUN.NOT_FOUND');
    const help = await cli('fork', '--help');
    expect(help.stdout).toContain('orchestron fork "$RUN" --at 7');
  });
});
