import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInMemoryBus } from '@orchestron/bus';
import { createInMemoryEventStore } from '@orchestron/event-store';
import { Engine } from '@orchestron/runtime';
import { createHttpApp } from '@orchestron/server';
import type { HttpApp } from '@orchestron/server';
import { runCli } from '../cli.ts';
import type { CliDeps } from '../cli.context.ts';

/** `orchestron schedule …` against the real HTTP edge and an engine that fires, in this process. */
const KEYS = [
  { key: 'operator-key-0123456789', role: 'operator', name: 'olga', tenant: 'acme' },
  { key: 'producer-key-0123456789', role: 'producer', name: 'pat', tenant: 'acme' },
  { key: 'operator-globex-0123456789', role: 'operator', name: 'oscar', tenant: 'globex' },
] as const;
const [OPERATOR, PRODUCER, OTHER_TENANT] = KEYS.map((k) => k.key) as [string, string, string];
const report = { id: 'report', version: 1, steps: { gate: { type: 'approval', assignees: ['role:operator'] } } };

describe('orchestron schedule', () => {
  let engine: Engine;
  let app: HttpApp;
  const cwd = mkdtempSync(join(tmpdir(), 'sched-cli-'));

  const cli = async (args: string[], key: string = OPERATOR) => {
    const out: string[] = [];
    const err: string[] = [];
    const deps: CliDeps = {
      io: { out: (l) => out.push(l), err: (l) => err.push(l), colour: false },
      env: { ORCHESTRON_API_KEY: key, ORCHESTRON_URL: 'http://orchestron.test' },
      cwd,
      now: () => Date.now(),
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      fetch: async (url, init) => {
        const { pathname, search } = new URL(url);
        const res = await app.nest.inject({
          method: (init.method ?? 'GET') as 'POST',
          url: pathname + search,
          headers: init.headers as Record<string, string>,
          ...(init.body !== undefined ? { payload: String(init.body) } : {}),
        });
        return new Response(res.body, { status: res.statusCode });
      },
    };
    const code = await runCli(args, deps);
    return { code, out, err };
  };

  beforeAll(async () => {
    engine = new Engine({ store: createInMemoryEventStore(), bus: createInMemoryBus(), scheduleTickMs: 100 });
    await engine.start();
    await engine.definitions.register(report, 'test', 'acme');
    app = await createHttpApp({ runs: engine, keys: KEYS });
  });

  afterAll(async () => {
    await engine.stop();
    await app.close();
  });

  it('create, then list shows it firing every second: next fire, last fire and the run it started', async () => {
    const created = await cli([
      'schedule',
      'create',
      'tick',
      '--definition',
      'report',
      '--cron',
      '* * * * * *',
      '--tz',
      'UTC',
      '--input',
      '{"region":"eu"}',
      '--overlap',
      'allow',
    ]);
    expect(created.code).toBe(0);
    expect(created.out[0]).toMatch(/^schedule tick created: \* \* \* \* \* \* \(UTC\) starts report; next fire \S+Z$/);
    for (let i = 0; i < 100; i++) {
      const view = await engine.schedules.get({ tenant: 'acme', id: 'tick' });
      if (view.fired >= 2) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const listed = await cli(['schedule', 'list']);
    expect(listed.code).toBe(0);
    expect(listed.out[0]).toMatch(
      /^ID\s+STATUS\s+CRON\s+DEFINITION\s+NEXT FIRE\s+LAST FIRE\s+LAST RUN\s+OVERLAP\/CATCH-UP$/,
    );
    const row = listed.out[1] as string;
    expect(row).toMatch(
      /^tick\s+active\s+\* \* \* \* \* \* UTC\s+report\s+\S+Z\s+\S+\.000Z\s+[0-9a-f-]{36}\s+allow\/latest$/,
    );
    const runId = row.split(/\s+/).at(-2) as string;
    const run = await engine.getRun(runId);
    expect(run?.idempotencyKey).toMatch(/^schedule:tick:/);
    expect(run?.input).toEqual({ region: 'eu' });
    const json = await cli(['schedule', 'list', '--json']);
    expect(JSON.parse(json.out.at(-1) as string)[0]).toMatchObject({ id: 'tick', status: 'active' });
  });

  it('pause shows it paused with no next fire; resume and delete; list then says there are none', async () => {
    expect((await cli(['schedule', 'pause', 'tick', '--reason', 'freeze'])).out).toEqual([
      'schedule tick paused: * * * * * * (UTC) starts report; paused',
    ]);
    expect((await cli(['schedule', 'list'])).out[1]).toMatch(/^tick\s+paused\s+.*\s+-\s+\S+Z\s+/);
    expect((await cli(['schedule', 'resume', 'tick'])).out[0]).toMatch(/resumed: .*next fire \S+Z$/);
    expect((await cli(['schedule', 'delete', 'tick'])).out).toEqual(['schedule tick (tenant acme) deleted']);
    expect((await cli(['schedule', 'list'])).out).toEqual(['no schedules']);
  });

  it('a bad cron exits 2 with the server error naming the field; a producer key is refused; another tenant finds nothing', async () => {
    const bad = await cli(['schedule', 'create', 'x', '--definition', 'report', '--cron', '61 * * * *', '--tz', 'UTC']);
    expect(bad.code).toBe(2);
    expect(bad.err.join('\n')).toMatch(/SCHEDULE\.INVALID: "cron" is not a cron expression.*minute: 61/);
    const zone = await cli([
      'schedule',
      'create',
      'x',
      '--definition',
      'report',
      '--cron',
      '@daily',
      '--tz',
      'Moon/Base',
    ]);
    expect(zone.err.join('\n')).toMatch(/"timezone" must be an IANA time zone/);
    const producer = await cli(
      ['schedule', 'create', 'x', '--definition', 'report', '--cron', '@daily', '--tz', 'UTC'],
      PRODUCER,
    );
    expect([producer.code, producer.err.join('\n')]).toEqual([2, expect.stringMatching(/AUTH\.FORBIDDEN/)]);
    await cli(['schedule', 'create', 'mine', '--definition', 'report', '--cron', '@daily', '--tz', 'UTC']);
    const other = await cli(['schedule', 'pause', 'mine'], OTHER_TENANT);
    expect([other.code, other.err.join('\n')]).toEqual([2, expect.stringMatching(/SCHEDULE\.NOT_FOUND/)]);
    expect((await cli(['schedule', 'list'], OTHER_TENANT)).out).toEqual(['no schedules']);
  });

  it('refuses a non-integer --max-catch-up before calling the server, and --help explains the policies', async () => {
    const usage = await cli([
      'schedule',
      'create',
      'x',
      '--definition',
      'r',
      '--cron',
      '@daily',
      '--tz',
      'UTC',
      '--max-catch-up',
      'lots',
    ]);
    expect(usage.code).toBe(2);
    expect(usage.err.join('\n')).toMatch(/--max-catch-up must be a positive integer; got "lots"/);
    const help = await cli(['schedule', 'create', '--help']);
    const text = [...help.out, ...help.err].join('\n');
    expect(text).toMatch(/buffer_one/);
    expect(text).toMatch(/at most --max-catch-up/);
  });
});
