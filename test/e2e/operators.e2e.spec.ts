import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, startServer } from '../support/server-process.ts';
import type { ServerProcess } from '../support/server-process.ts';

interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** What operators and auditors do, through the real CLI against the real server process (docs/operators.md). */
describe('operators and auditors, through the CLI', () => {
  let server: ServerProcess;

  beforeAll(async () => {
    server = await startServer(mkdtempSync(join(tmpdir(), 'orchestron-operators-')), { ORCHESTRON_WORK_MS: '10' });
  });
  afterAll(async () => {
    await server.kill('SIGTERM');
  });

  const cli = (...args: string[]): Promise<CliResult> =>
    new Promise((resolve) => {
      execFile(
        process.execPath,
        [join(ROOT, 'bin/orchestron.mjs'), ...args],
        {
          cwd: ROOT,
          env: { ...process.env, ORCHESTRON_URL: server.url, ORCHESTRON_API_KEY: server.key, NO_COLOR: '1' },
        },
        (error, stdout, stderr) => {
          resolve({ code: error ? (typeof error.code === 'number' ? error.code : 99) : 0, stdout, stderr });
        },
      );
    });
  const lastJson = (stdout: string): Json => JSON.parse(stdout.trim().split('\n').at(-1) as string) as Json;
  const runOnboarding = async (input: Json): Promise<Json> =>
    lastJson(
      (await cli('run', 'examples/employee-onboarding.yaml', '--input', JSON.stringify(input), '--wait', '--json'))
        .stdout,
    );

  describe('inspect --at', () => {
    let run: Json;
    let events: Json[];
    beforeAll(async () => {
      run = await runOnboarding({ email: 'a@b.c' });
      events = lastJson((await cli('history', run.id as string, '--json')).stdout).events as Json[];
    });

    it('shows an earlier revision as it was: fewer steps done than now, and where it stands', async () => {
      expect(run.status).toBe('completed');
      const firstDone = events.findIndex((e) => e.type === 'StepCompleted');
      const result = await cli('inspect', run.id as string, '--at', String(firstDone));
      expect(result.code).toBe(0);
      const latest = events.length - 1;
      expect(result.stdout).toContain(
        `As of revision ${firstDone} of ${latest} (StepCompleted, recorded ${events[firstDone]?.recordedAt as string}): ${latest - firstDone} events before now`,
      );
      expect(result.stdout).toMatch(/ running\n/);
      const past = lastJson((await cli('inspect', run.id as string, '--at', String(firstDone), '--json')).stdout);
      const done = (view: Json): number => (view.steps as Json[]).filter((s) => s.status === 'completed').length;
      expect(done(past.run as Json)).toBe(1);
      expect(done(run)).toBeGreaterThan(1);
      expect(past.at).toMatchObject({ revision: firstDone, latestRevision: latest });
    });

    it('takes a time, and refuses a revision past the end naming it (exit 2)', async () => {
      const byTime = await cli('inspect', run.id as string, '--at', events[0]?.recordedAt as string, '--json');
      expect(lastJson(byTime.stdout).run.status).toBe('running');
      const past = await cli('inspect', run.id as string, '--at', String(events.length));
      expect(past.code).toBe(2);
      expect(past.stderr).toContain(`REQUEST.INVALID: at ${events.length} is past the run's newest revision`);
      const noAt = await cli('inspect', run.id as string);
      expect(noAt.code).toBe(2);
      expect(noAt.stderr).toContain("required option '--at <revision|time>' not specified");
    });
  });

  describe('redrive', () => {
    it('re-drives a compensated onboarding run from create-workspace with a fixed input, and it completes', async () => {
      const run = await runOnboarding({ email: 'r@b.c', simulate: { 'create-workspace': 'fail-always' } });
      expect(run.status).toBe('compensated');
      const account = (run.steps as Json[]).find((s) => s.id === 'create-account')?.output as Json;
      const fixed = JSON.stringify({ owner: account.accountId, simulate: {} });
      const redriven = await cli(
        'redrive',
        run.id as string,
        '--from',
        'create-workspace',
        '--input',
        fixed,
        '--reason',
        'workspace quota raised',
      );
      expect(redriven.stderr).toBe('');
      expect(redriven.stdout).toContain(`redrive create-workspace: done; run ${run.id as string} is now running`);
      let status = '';
      for (let i = 0; i < 100 && status !== 'completed'; i++) {
        status = lastJson((await cli('status', run.id as string, '--json')).stdout).status as string;
        if (status !== 'completed') await new Promise((r) => setTimeout(r, 100));
      }
      expect(status).toBe('completed');
      const history = (await cli('history', run.id as string)).stdout;
      expect(history).toMatch(
        /RunReset +from create-workspace runs=\["create-workspace","notify-team"\] by=admin:local-admin reason="workspace quota raised" was compensated input=.* still-undone=\["create-account"\]/,
      );
      expect(history.indexOf('RunCompensated')).toBeLessThan(history.indexOf('RunReset'));
      expect(history.indexOf('RunReset')).toBeLessThan(history.lastIndexOf('RunCompleted'));
    });

    it('refuses a redrive without a reason, of an unknown step, and of a completed run, with their codes', async () => {
      const run = await runOnboarding({ email: 'c@b.c' });
      const noReason = await cli('redrive', run.id as string, '--from', 'create-workspace');
      expect(noReason.code).toBe(2);
      expect(noReason.stderr).toContain("required option '--reason <text>' not specified");
      const completed = await cli('redrive', run.id as string, '--from', 'create-workspace', '--reason', 'x');
      expect(completed.code).toBe(2);
      expect(completed.stderr).toContain('RUN.NOT_REDRIVABLE: the run completed');
      const unknown = await cli('redrive', run.id as string, '--from', 'no-such-step', '--reason', 'x');
      expect(unknown.stderr).toContain('STEP.NOT_FOUND');
    });
  });
});
