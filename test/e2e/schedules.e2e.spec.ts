import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { api, runCli, startServer } from '../support/server-process.ts';
import type { ServerProcess } from '../support/server-process.ts';

/**
 * The schedule demo: a schedule fires every second (a per-second cron keeps it short; every minute works the same)
 * across kill -9 of the server. Each fire is one run, none twice, and with `catchUp: all` the seconds the server was
 * down are caught up after the restart, so the fire times run on without a gap.
 */
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const definition = { id: 'tick-demo', version: 1, steps: { sign: { type: 'approval', assignees: ['role:operator'] } } };

describe('a schedule across kill -9 of the server', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sched-e2e-'));
  let server: ServerProcess;

  beforeAll(async () => {
    server = await startServer(dataDir);
  }, 30_000);
  afterAll(async () => {
    await server.kill('SIGTERM');
  });

  const fires = async (): Promise<{ schedule: Json; runs: Json[] }> => {
    const schedule = (await api<Json>(server, 'GET', '/v1/schedules/demo')).body.schedule as Json;
    const runs = (await api<Json>(server, 'GET', '/v1/runs?definition=tick-demo&limit=1000')).body.runs as Json[];
    return { schedule, runs };
  };

  it('fires every second, none twice, and catches up the seconds it was down', async () => {
    expect((await api(server, 'POST', '/v1/definitions', definition)).status).toBe(201);
    const created = await runCli(server, [
      'schedule',
      'create',
      'demo',
      '--definition',
      'tick-demo',
      '--cron',
      '* * * * * *',
      '--tz',
      'UTC',
      '--overlap',
      'allow',
      '--catch-up',
      'all',
      '--max-catch-up',
      '30',
    ]);
    expect(created).toMatchObject({ code: 0, stdout: expect.stringMatching(/^schedule demo created/) });
    await sleep(3000);
    const before = await fires();
    expect(before.schedule.fired).toBeGreaterThanOrEqual(2);
    await server.kill('SIGKILL');
    await sleep(2000);
    server = await startServer(dataDir);
    await sleep(3000);
    const listed = await runCli(server, ['schedule', 'list']);
    expect(listed.stdout).toMatch(/demo\s+active\s+\* \* \* \* \* \* UTC\s+tick-demo/);
    await runCli(server, ['schedule', 'pause', 'demo']);
    await sleep(1000); // a fire recorded just before the pause has its run started by now
    const after = await fires();
    const keys: string[] = [];
    for (const run of after.runs) {
      const events = (await api<Json>(server, 'GET', `/v1/runs/${run.id}/events`)).body.events as Json[];
      keys.push(events[0]?.data.idempotencyKey as string);
    }
    const seconds = keys.map((k) => Date.parse(k.replace('schedule:demo:', '')) / 1000).sort((a, b) => a - b);
    const gaps = seconds.filter((s, i) => i > 0 && s !== (seconds[i - 1] as number) + 1);
    process.stdout.write(
      `schedule demo: ${after.schedule.fired} fires recorded, ${after.runs.length} runs, ${new Set(keys).size} distinct fire keys, ` +
        `fire times ${new Date((seconds[0] as number) * 1000).toISOString()} .. ${new Date((seconds.at(-1) as number) * 1000).toISOString()}, ` +
        `${gaps.length} gaps; ${before.schedule.fired} fired before the kill -9\n${listed.stdout}`,
    );
    expect(after.runs.length).toBe(after.schedule.fired);
    expect(new Set(keys).size).toBe(keys.length);
    expect(gaps).toEqual([]);
    expect(after.schedule.fired).toBeGreaterThan(before.schedule.fired + 3);
  }, 90_000);
});
