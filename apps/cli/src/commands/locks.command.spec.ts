import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInMemoryBus } from '@orchestron/bus';
import { createInMemoryEventStore } from '@orchestron/event-store';
import { Engine } from '@orchestron/runtime';
import { eventually, startedRun } from '@orchestron/runtime/testing';
import { createHttpApp } from '@orchestron/server';
import type { HttpApp } from '@orchestron/server';
import { runCli } from '../cli.ts';
import type { CliDeps } from '../cli.context.ts';

/** `orchestron locks` against the real HTTP edge and an engine in this process; nobody serves worker "bank". */
const KEYS = [
  { key: 'operator-key-0123456789', role: 'operator', name: 'olga', tenant: 'acme' },
  { key: 'operator-globex-0123456789', role: 'operator', name: 'oscar', tenant: 'globex' },
  { key: 'admin-key-0123456789', role: 'admin', name: 'root' },
] as const;
const [OPERATOR, OTHER_TENANT, ADMIN] = KEYS.map((k) => k.key) as [string, string, string];
const transfer = {
  id: 'transfer',
  version: 1,
  steps: { post: { worker: 'bank', locks: [{ name: 'account-${{ input.account }}' }] } },
};
const ISO = '\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z';

describe('orchestron locks', () => {
  let engine: Engine;
  let app: HttpApp;
  const runs: Record<string, string> = {};
  const cwd = mkdtempSync(join(tmpdir(), 'locks-cli-'));

  const cli = async (args: string[], key: string = OPERATOR) => {
    const out: string[] = [];
    const err: string[] = [];
    const calls: string[] = [];
    const deps: CliDeps = {
      io: { out: (l) => out.push(l), err: (l) => err.push(l), colour: false },
      env: { ORCHESTRON_API_KEY: key, ORCHESTRON_URL: 'http://orchestron.test' },
      cwd,
      now: () => Date.now(),
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      fetch: async (url, init) => {
        const { pathname, search } = new URL(url);
        calls.push(pathname + search);
        const res = await app.nest.inject({
          method: (init.method ?? 'GET') as 'GET',
          url: pathname + search,
          headers: init.headers as Record<string, string>,
          ...(init.body !== undefined ? { payload: String(init.body) } : {}),
        });
        return new Response(res.body, { status: res.statusCode });
      },
    };
    const code = await runCli(args, deps);
    return { code, out, err, calls };
  };
  /** Starts a run on the account and waits until the lock table has it, holding or waiting (`waiters` ahead of it). */
  const start = async (name: string, tenant: string, account: string, waiters: number) => {
    const { run } = await startedRun(
      engine.startRun({ definitionId: 'transfer', input: { account }, idempotencyKey: name, tenant, actor: 'test' }),
    );
    runs[name] = run.runId;
    await eventually(`${name} in the lock table`, async () => {
      const [lock] = await engine.lockTable({ tenant });
      return lock !== undefined && lock.holders.length === 1 && lock.waiting.length === waiters;
    });
  };

  beforeAll(async () => {
    engine = new Engine({ store: createInMemoryEventStore(), bus: createInMemoryBus() });
    await engine.start();
    for (const tenant of ['acme', 'globex']) await engine.definitions.register(transfer, 'test', tenant);
    app = await createHttpApp({ runs: engine, keys: KEYS });
  });

  afterAll(async () => {
    await engine.stop();
    await app.close();
  });

  it('says so when no lock is held or waited for', async () => {
    const listed = await cli(['locks']);
    expect([listed.code, listed.out]).toEqual([0, ['no locks are held or waited for']]);
  });

  it('prints one line per lock: its name, the holder (run/step, mode), then the waiters first in line first', async () => {
    await start('a-holder', 'acme', '7', 0);
    await start('a-second', 'acme', '7', 1);
    await start('a-third', 'acme', '7', 2);
    await start('g-holder', 'globex', '7', 0);
    const listed = await cli(['locks']);
    expect(listed.code).toBe(0);
    expect(listed.calls).toEqual(['/v1/locks']);
    expect(listed.out).toHaveLength(2);
    expect(listed.out[0]).toMatch(/^LOCK\s+HOLDERS\s+WAITING \(FIRST IN LINE FIRST\)$/);
    expect(listed.out[1]).toMatch(
      new RegExp(
        `^account-7  ${runs['a-holder']}/post exclusive  ` +
          `1\\. ${runs['a-second']}/post exclusive since ${ISO}  2\\. ${runs['a-third']}/post exclusive since ${ISO}$`,
      ),
    );
    expect((await cli(['locks'], OTHER_TENANT)).out[1]).toMatch(
      new RegExp(`^account-7  ${runs['g-holder']}/post exclusive  -$`),
    );
  });

  it('shows an admin every tenant with a TENANT column, or one with --tenant; --json prints the answer', async () => {
    const all = await cli(['locks'], ADMIN);
    expect(all.out.map((l) => l.split(/\s+/).slice(0, 2).join(' '))).toEqual([
      'TENANT LOCK',
      'acme account-7',
      'globex account-7',
    ]);
    const one = await cli(['locks', '--tenant', 'globex', '--limit', '5'], ADMIN);
    expect(one.calls).toEqual(['/v1/locks?tenant=globex&limit=5']);
    expect(one.out.slice(1).map((l) => l.split(/\s+/)[0])).toEqual(['account-7']);
    const json = await cli(['locks', '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.out.at(-1) as string)).toEqual({ locks: await engine.lockTable({ tenant: 'acme' }) });
  });

  it("refuses another tenant's locks (exit 2) and a bad --limit before calling the server; --help has an example", async () => {
    const other = await cli(['locks', '--tenant', 'globex']);
    expect([other.code, other.err.join('\n')]).toEqual([2, expect.stringMatching(/AUTH\.FORBIDDEN/)]);
    const limit = await cli(['locks', '--limit', 'lots']);
    expect([limit.code, limit.calls]).toEqual([2, []]);
    expect(limit.err.join('\n')).toMatch(/--limit must be an integer from 1 to 1000; got "lots"/);
    const help = await cli(['locks', '--help']);
    const text = [...help.out, ...help.err].join('\n');
    expect(text).toMatch(/\$ orchestron locks --tenant acme --json/);
    expect(text).toMatch(/first in line first/);
  });
});
