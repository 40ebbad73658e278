import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { api, runCli, startServer } from '../support/server-process.ts';
import type { CliResult, ServerProcess } from '../support/server-process.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Event steps (`type: event`) through the real server process, its HTTP API and the real CLI. */
describe('events from outside, through the real server and CLI', () => {
  let server: ServerProcess;
  const dataDir = mkdtempSync(join(tmpdir(), 'orchestron-events-'));
  const cli = (...args: string[]): Promise<CliResult> => runCli(server, args);
  const lastJson = (stdout: string): Json => JSON.parse(stdout.trim().split('\n').at(-1) as string) as Json;

  const contract = (timeout: string, onTimeout = 'fail') => ({
    id: `contract-${timeout}-${onTimeout}`,
    version: 1,
    onFailure: 'fail',
    steps: {
      signed: { type: 'event', event: 'contract.signed', match: '${{ input.contractId }}', timeout, onTimeout },
    },
  });
  const start = async (contractId: string, timeout = '10m', onTimeout = 'fail'): Promise<string> => {
    const started = await api<Json>(server, 'POST', '/v1/runs', {
      definition: contract(timeout, onTimeout),
      input: { contractId },
    });
    expect(started.status).toBe(201);
    return started.body.run.id as string;
  };
  const run = async (id: string): Promise<Json> => (await api<Json>(server, 'GET', `/v1/runs/${id}`)).body.run;
  const until = async (id: string, ok: (r: Json) => boolean): Promise<Json> => {
    let r: Json = {};
    for (let i = 0; i < 200; i++) {
      r = await run(id);
      if (ok(r)) return r;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`run ${id} never got there: ${JSON.stringify(r)}`);
  };
  const waiting = async (id: string): Promise<Json> => {
    const r = await until(id, (x) => x.steps[0].status === 'waiting_event');
    // The wait is registered in the store's correlation stream just after.
    await new Promise((resolve) => setTimeout(resolve, 200));
    return r;
  };

  beforeAll(async () => {
    server = await startServer(dataDir, { ORCHESTRON_EVENT_BUFFER: '1m' });
  });
  afterAll(async () => {
    await server.kill('SIGTERM');
  });

  it('delivers an event sent with orchestron send-event to the one run waiting for its key', async () => {
    const mine = await start('C-1');
    const other = await start('C-2');
    expect((await waiting(mine)).steps[0].waitsFor).toMatchObject({ event: 'contract.signed', key: 'C-1' });
    await waiting(other);
    const status = await cli('status', mine);
    expect(status.stdout).toMatch(/signed +waiting_event \(contract\.signed "C-1"\) +0 +\(event\)/);
    expect(status.stdout).toMatch(/Waiting: signed waits for event contract\.signed with key "C-1" until 20/);
    const sent = await cli(
      'send-event',
      'contract.signed',
      '--key',
      'C-1',
      '--id',
      'sig-1',
      '--payload',
      '{"by":"ann"}',
    );
    expect(sent).toMatchObject({ code: 0, stderr: '' });
    expect(sent.stdout.trim()).toBe(
      `event contract.signed (key "C-1", id "sig-1"): delivered to ${mine} (step signed)`,
    );
    expect(await until(mine, (r) => r.status === 'completed')).toMatchObject({
      steps: [{ status: 'completed', output: { by: 'ann' } }],
    });
    expect((await run(other)).steps[0].status).toBe('waiting_event');
    const history = lastJson((await cli('history', mine, '--json')).stdout).events as Json[];
    expect(history.map((e) => e.type)).toEqual(
      expect.arrayContaining(['EventWaitStarted', 'ExternalEventReceived', 'StepCompleted', 'RunCompleted']),
    );
  });

  it('ignores a duplicate event id', async () => {
    const id = await start('C-3');
    await waiting(id);
    await cli('send-event', 'contract.signed', '--key', 'C-3', '--id', 'dup-1', '--payload', '1');
    const again = await cli(
      'send-event',
      'contract.signed',
      '--key',
      'C-3',
      '--id',
      'dup-1',
      '--payload',
      '2',
      '--json',
    );
    expect(again.code).toBe(0);
    expect(lastJson(again.stdout)).toEqual({
      status: 'duplicate',
      eventId: 'dup-1',
      deliveredTo: [{ runId: id, stepId: 'signed' }],
    });
    expect((await until(id, (r) => r.status === 'completed')).steps[0].output).toBe(1);
  });

  it('buffers an early event, then the run that waits for it takes it', async () => {
    const early = await api<Json>(server, 'POST', '/v1/events', {
      name: 'contract.signed',
      key: 'C-4',
      id: 'early-1',
      payload: { early: true },
    });
    expect(early).toMatchObject({ status: 202, body: { event: { status: 'buffered', deliveredTo: [] } } });
    const id = await start('C-4');
    expect(await until(id, (r) => r.status === 'completed')).toMatchObject({ steps: [{ output: { early: true } }] });
  });

  it('times out with EVENT.TIMED_OUT when no event comes', async () => {
    const id = await start('C-5', '1s');
    const failed = await until(id, (r) => r.status === 'failed');
    expect(failed.steps[0]).toMatchObject({ status: 'failed', error: { code: 'EVENT.TIMED_OUT' } });
    expect(failed.steps[0].error.message).toBe('event "contract.signed" with key "C-5" did not come within 1s');
    // A late event finds nobody waiting: it is buffered, and the failed run stays failed.
    const late = await cli('send-event', 'contract.signed', '--key', 'C-5', '--id', 'late');
    expect(late.stdout).toMatch(/buffered until/);
    expect((await run(id)).status).toBe('failed');
  });

  it("as an attacker: another tenant's producer cannot reach my run, an oversized payload is 413, a budget-blowing match fails the step", async () => {
    const id = await start('C-6');
    await waiting(id);
    const issued = await cli(
      'keys',
      'create',
      '--role',
      'producer',
      '--subject',
      'mallory',
      '--tenant',
      'globex',
      '--json',
    );
    const token = lastJson(issued.stdout).token as string;
    const evil = await runCli({ url: server.url, key: token }, [
      'send-event',
      'contract.signed',
      '--key',
      'C-6',
      '--id',
      'x',
    ]);
    expect(evil.stdout).toMatch(/buffered until/);
    expect((await run(id)).steps[0].status).toBe('waiting_event');
    const huge = await api<Json>(server, 'POST', '/v1/events', {
      name: 'contract.signed',
      key: 'C-6',
      id: 'huge',
      payload: 'x'.repeat(300 * 1024),
    });
    expect(huge).toMatchObject({ status: 413, body: { error: { code: 'REQUEST.TOO_LARGE' } } });
    const blow = await api<Json>(server, 'POST', '/v1/runs', {
      definition: {
        id: 'blow',
        version: 1,
        onFailure: 'fail',
        steps: { w: { type: 'event', event: 'e', match: '${{ string(input.items.map(x, x * 2).size()) }}' } },
      },
      input: { items: Array.from({ length: 200_000 }, (_, i) => i) },
    });
    const blown = await until(blow.body.run.id as string, (r) => r.status === 'failed');
    expect(blown.steps[0].error.code).toBe('EXPRESSION.BUDGET_EXCEEDED');
  });

  it('keeps a wait and a buffered event across kill -9 of the server', async () => {
    const waitingRun = await start('C-8');
    await waiting(waitingRun);
    const early = await cli('send-event', 'contract.signed', '--key', 'C-9', '--id', 'early-9', '--payload', '9');
    expect(early.stdout).toMatch(/buffered until/);
    await server.kill('SIGKILL');
    server = await startServer(dataDir, { ORCHESTRON_EVENT_BUFFER: '1m' });
    const sent = await cli('send-event', 'contract.signed', '--key', 'C-8', '--id', 'after-crash', '--payload', '8');
    expect(sent.stdout).toMatch(new RegExp(`delivered to ${waitingRun}`));
    expect((await until(waitingRun, (r) => r.status === 'completed')).steps[0].output).toBe(8);
    const later = await start('C-9');
    expect((await until(later, (r) => r.status === 'completed')).steps[0].output).toBe(9);
  });
});
