import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, startServer } from '../support/server-process.ts';
import type { ServerProcess } from '../support/server-process.ts';

/** Keys like a real service (issue 8): issued, hashed at rest, revoked, and the data files private, through the real CLI and server. */
describe('orchestron keys, against the server process', () => {
  let server: ServerProcess;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'orchestron-keys-'));
    server = await startServer(dataDir, { ORCHESTRON_WORKERS: 'off' });
  });
  afterAll(async () => {
    await server.kill('SIGTERM');
  });

  const cli = (...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
    new Promise((resolve) => {
      // The CLI reads the admin key from the data directory, as an operator on the server's machine would.
      const { ORCHESTRON_API_KEY: _ignored, ...inherited } = process.env;
      const env = {
        ...inherited,
        ORCHESTRON_URL: server.url,
        ORCHESTRON_DATA: dataDir,
        NODE_OPTIONS: '',
        NO_COLOR: '1',
      };
      execFile(
        process.execPath,
        [join(ROOT, 'bin/orchestron.mjs'), ...args],
        { cwd: ROOT, env },
        (error, stdout, stderr) => {
          resolve({ code: error ? (typeof error.code === 'number' ? error.code : 99) : 0, stdout, stderr });
        },
      );
    });
  const as = async (token: string, path: string) =>
    (await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${token}` } })).status;
  const issue = async (...args: string[]) => {
    const result = await cli('keys', 'create', ...args, '--json');
    expect(result).toMatchObject({ code: 0 });
    return JSON.parse(result.stdout.trim().split('\n').at(-1) as string) as {
      key: { id: string; tenant: string };
      token: string;
    };
  };

  it('issues a producer key for a tenant, whose token works where a producer may go', async () => {
    const { key, token } = await issue(
      '--role',
      'producer',
      '--subject',
      'alice',
      '--tenant',
      'acme',
      '--expires',
      '30d',
    );
    expect(key.tenant).toBe('acme');
    expect(await as(token, '/v1/runs')).toBe(200);
    expect(await as(token, '/v1/keys')).toBe(403);
    const listed = await cli('keys', 'list', '--tenant', 'acme');
    expect(listed.stdout).toMatch(new RegExp(`${key.id}\\s+producer\\s+alice\\s+acme\\s+api\\s+expires 20`));
  });

  it('keeps no token at rest: the event store holds its scrypt hash, and the data files are private', async () => {
    const { token } = await issue('--role', 'auditor', '--subject', 'carol');
    const secret = token.slice('orn_'.length + 13);
    const files = readdirSync(dataDir).filter((f) => f.startsWith('events.sqlite'));
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      expect(readFileSync(join(dataDir, file)).includes(secret)).toBe(false);
      expect({ file, mode: statSync(join(dataDir, file)).mode & 0o777 }).toEqual({ file, mode: 0o600 });
    }
    expect(statSync(join(dataDir, 'admin.key')).mode & 0o777).toBe(0o600);
  });

  it('a revoked key is refused at once, and a configured key cannot be revoked', async () => {
    const { key, token } = await issue('--role', 'operator', '--subject', 'dave');
    expect(await as(token, '/v1/runs')).toBe(200);
    const revoked = await cli('keys', 'revoke', key.id, '--reason', 'rotated');
    expect(revoked).toMatchObject({ code: 0, stdout: expect.stringContaining(`key ${key.id} revoked at`) });
    expect(await as(token, '/v1/runs')).toBe(401);
    const refused = await cli('keys', 'revoke', 'cfg-local-admin');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('KEY.NOT_REVOCABLE');
  });

  it('a bad --expires or role is named before or by the server', async () => {
    const expiry = await cli('keys', 'create', '--role', 'producer', '--subject', 'x', '--expires', 'soon');
    expect(expiry.code).toBe(2);
    expect(expiry.stderr).toContain('--expires must be a duration like 30d');
    const role = await cli('keys', 'create', '--role', 'root', '--subject', 'x');
    expect(role.code).toBe(2);
    expect(role.stderr).toContain('"role" must be one of producer, worker, operator, auditor, admin');
  });
});
