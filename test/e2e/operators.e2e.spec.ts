import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import Database from 'better-sqlite3';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { api, runCli, startServer } from '../support/server-process.ts';
import type { CliResult, ServerProcess } from '../support/server-process.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** What operators and auditors do, through the real CLI against the real server process (docs/operators.md). */
describe('operators and auditors, through the CLI', () => {
  let server: ServerProcess;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'orchestron-operators-'));
    server = await startServer(dataDir, { ORCHESTRON_WORK_MS: '10' });
  });
  afterAll(async () => {
    await server.kill('SIGTERM');
  });

  const cli = (...args: string[]): Promise<CliResult> => runCli(server, args);
  const inData = (name: string): string => join(dataDir, name);
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
    }, 120_000);

    it('takes a time, and refuses a revision past the end naming it (exit 2)', async () => {
      const byTime = await cli('inspect', run.id as string, '--at', events[0]?.recordedAt as string, '--json');
      expect(lastJson(byTime.stdout).run.status).toBe('running');
      const past = await cli('inspect', run.id as string, '--at', String(events.length));
      expect(past.code).toBe(2);
      expect(past.stderr).toContain(`REQUEST.INVALID: at ${events.length} is past the run's newest revision`);
      const noAt = await cli('inspect', run.id as string);
      expect(noAt.code).toBe(2);
      expect(noAt.stderr).toContain("required option '--at <revision|time>' not specified");
    }, 120_000);
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
    }, 120_000);

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
    }, 120_000);
  });

  describe('audit', () => {
    const lines = (file: string): string[] => readFileSync(file, 'utf8').trimEnd().split('\n');
    const write = (file: string, content: readonly string[]): string => {
      writeFileSync(inData(file), `${content.join('\n')}\n`);
      return inData(file);
    };
    const checkpointCovers = async (events: number): Promise<void> => {
      for (let i = 0; i < 100; i++) {
        const { body } = await api<{ checkpoint: { treeSize: number } }>(server, 'GET', '/v1/audit/checkpoint');
        if (body.checkpoint.treeSize >= events) return;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`no checkpoint covers ${events} events`);
    };

    it('verifies the live log, and an export and a proof offline with the public key', async () => {
      await runOnboarding({ email: 'audit@b.c' });
      writeFileSync(inData('key.pem'), (await cli('audit', 'checkpoint', '--public-key')).stdout);
      const live = await cli('audit', 'verify');
      expect(live.stdout).toMatch(/^verified \d+ events in \d+ streams against checkpoint \d+ /);
      expect(live.code).toBe(0);
      writeFileSync(inData('log.ndjson'), (await cli('audit', 'export')).stdout);
      const exported = lines(inData('log.ndjson'));
      await checkpointCovers(exported.length - 1);
      const offline = await cli('audit', 'verify', '--file', inData('log.ndjson'), '--public-key', inData('key.pem'));
      expect(offline.stdout).toContain(`verified ${exported.length - 1} events`);
      expect(offline.code).toBe(0);
      const event = JSON.parse(exported[10] as string) as Json;
      writeFileSync(inData('proof.json'), (await cli('audit', 'prove', event.id as string)).stdout);
      const proved = await cli('audit', 'verify', '--proof', inData('proof.json'), '--public-key', inData('key.pem'));
      expect(proved.stdout).toContain(`proved: event ${event.id as string} (position ${event.position as number})`);
      expect(proved.code).toBe(0);
    }, 120_000);

    it('fails an export altered by one byte, or with one event removed, at the right position (exit 1)', async () => {
      const exported = lines(inData('log.ndjson'));
      const byte = [...exported];
      const target = JSON.parse(byte[12] as string) as Json;
      byte[12] = (byte[12] as string).replace('"recordedAt":"', '"recordedAt":"1');
      const altered = await cli(
        'audit',
        'verify',
        '--file',
        write('byte.ndjson', byte),
        '--public-key',
        inData('key.pem'),
      );
      expect(altered.stdout).toContain(
        `FAILED at position ${target.position as number} (line 13): the event at position`,
      );
      expect(altered.code).toBe(1);
      const gone = JSON.parse(exported[21] as string) as Json;
      const removed = exported.filter((_, i) => i !== 20);
      const short = await cli(
        'audit',
        'verify',
        '--file',
        write('removed.ndjson', removed),
        '--public-key',
        inData('key.pem'),
      );
      expect(short.stdout).toContain(`FAILED at position ${gone.position as number} (line 21)`);
      expect(short.code).toBe(1);
    }, 120_000);

    it('catches an event altered in the live SQLite file, naming its position', async () => {
      const db = new Database(inData('events.sqlite'));
      const { position } = db
        .prepare("SELECT min(position) AS position FROM events WHERE data LIKE '%audit@b.c%'")
        .get() as { position: number };
      try {
        db.prepare("UPDATE events SET data = replace(data, 'audit@b.c', 'forged@b.c') WHERE position = ?").run(
          position,
        );
      } finally {
        db.close();
      }
      const live = await cli('audit', 'verify');
      expect(live.stdout).toContain(
        `FAILED at position ${position} (line ${position + 1}): the event at position ${position}`,
      );
      expect(live.code).toBe(1);
    }, 120_000);
  });
});
