import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import Database from 'better-sqlite3';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, startServer } from '../support/server-process.ts';
import type { CliResult, ServerProcess } from '../support/server-process.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const RUNS = 6;

/** `orchestron projections rebuild [--verify]` on the data directory the real server leaves (docs/operators.md). */
describe('projections rebuild, through the CLI, on a data directory the server left', () => {
  let server: ServerProcess;
  let dataDir: string;

  const cli = (...args: string[]): Promise<CliResult> => runCli(server, args);

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'orchestron-projections-'));
    server = await startServer(dataDir, { ORCHESTRON_WORK_MS: '10' });
    const runs = await Promise.all(
      Array.from({ length: RUNS }, (_, i) =>
        cli('run', 'examples/employee-onboarding.yaml', '--input', JSON.stringify({ email: `p${i}@b.c` }), '--wait'),
      ),
    );
    expect(runs.map((r) => r.code)).toEqual(Array.from({ length: RUNS }, () => 0));
  }, 60_000);
  afterAll(async () => {
    await server.kill('SIGTERM');
  });

  it('refuses to write while the server has the store open; --verify only reads', async () => {
    const refused = await cli('projections', 'rebuild', '--data', dataDir);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('stop the server first');
  });

  it('after the server stops: no difference, then the altered row named, then rebuilt and clean', async () => {
    await server.kill('SIGTERM');
    const clean = await cli('projections', 'rebuild', '--verify', '--data', dataDir);
    process.stdout.write(`projections rebuild --verify:\n${clean.stdout}${clean.stderr}`);
    expect(clean.code).toBe(0);
    expect(clean.stdout).toContain(`rebuilt ${RUNS} runs`);
    expect(clean.stdout.trim().split('\n').at(-1)).toBe('no difference');
    expect(clean.stderr).toContain('replaying the log: position');

    const json = JSON.parse(
      (await cli('projections', 'rebuild', '--verify', '--data', dataDir, '--json')).stdout,
    ) as Json;
    expect(json).toMatchObject({ runs: RUNS, differences: [], checkpoint: { status: 'restored' } });

    const db = new Database(join(dataDir, 'events.sqlite'));
    const { id } = db.prepare("SELECT id FROM read_rows WHERE tbl = 'runs' LIMIT 1").get() as { id: string };
    db.prepare("UPDATE read_rows SET tenant = 'mallory' WHERE tbl = 'runs' AND id = ?").run(id);
    db.close();
    const altered = await cli('projections', 'rebuild', '--verify', '--data', dataDir);
    expect(altered.code).toBe(1);
    expect(altered.stdout).toContain(`run ${id} tenant: live "mallory", rebuilt "default"`);
    expect(altered.stdout.trim().split('\n').at(-1)).toBe('1 difference');

    const rebuilt = await cli('projections', 'rebuild', '--data', dataDir);
    process.stdout.write(`projections rebuild:\n${rebuilt.stdout}`);
    expect(rebuilt.code).toBe(0);
    expect(rebuilt.stdout).toContain(`saved ${RUNS} ended runs to the read rows`);
    expect((await cli('projections', 'rebuild', '--verify', '--data', dataDir)).code).toBe(0);
  }, 60_000);

  it('names a data directory with no event store', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'orchestron-empty-'));
    const result = await cli('projections', 'rebuild', '--verify', '--data', empty);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`--data: no event store in ${empty}`);
  });
});
