import { describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from './cli.ts';
import { aRun, aStep } from './testing.fixtures.ts';
import type { RunView } from './api.types.ts';
import type { CliDeps } from './cli.context.ts';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

interface Recorded {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
}
type Reply = { status: number; body: unknown } | Error;

/** An in-process CLI against a scripted server: each route answers from its queue, repeating the last answer. */
function harness(
  routes: Record<string, Reply[]>,
  env: Record<string, string> = { ORCHESTRON_API_KEY: 'k-1' },
  cwd = repoRoot,
) {
  const out: string[] = [];
  const err: string[] = [];
  const requests: Recorded[] = [];
  let clock = 0;
  const deps: CliDeps = {
    io: { out: (l) => out.push(l), err: (l) => err.push(l), colour: false },
    env,
    cwd,
    now: () => clock,
    sleep: async (ms) => {
      clock += ms;
    },
    fetch: async (url, init) => {
      const method = init.method ?? 'GET';
      requests.push({
        method,
        url,
        headers: init.headers as Record<string, string>,
        body: init.body ? JSON.parse(String(init.body)) : undefined,
      });
      const key = `${method} ${new URL(url).pathname}`;
      const queue = routes[key];
      if (!queue)
        return new Response(JSON.stringify({ error: { code: 'TEST.NO_ROUTE', message: key, retryable: false } }), {
          status: 404,
        });
      const reply = queue.length > 1 ? queue.shift() : queue[0];
      if (reply instanceof Error) throw reply;
      if (!reply) throw new Error('empty route');
      return new Response(JSON.stringify(reply.body), { status: reply.status });
    },
  };
  return { out, err, requests, run: (...args: string[]) => runCli(args, deps) };
}

const ok = (run: RunView, status = 200) => ({
  status,
  body: { run, agent_contract: { retryable: false, next_actions: [] } },
});
const failure = (status: number, code: string, message: string, details?: unknown) => ({
  status,
  body: { error: { code, message, retryable: false, details }, agent_contract: null },
});

const account = (overrides: Parameters<typeof aStep>[1]) => aStep('create-account', overrides);
const welcome = (overrides: Parameters<typeof aStep>[1]) =>
  aStep('send-welcome', { worker: 'mail', needs: ['create-account'], ...overrides });

describe('orchestron run', () => {
  it('follows a run with the server long poll, from position to position, without polling', async () => {
    // Given a server that answers GET /v1/runs/:id/wait at each change of the run
    const waited = (run: RunView, position: number, ended = false) => ({
      status: 200,
      body: { run, wait: { ended, timedOut: false, position }, agent_contract: { retryable: false, next_actions: [] } },
    });
    const t = harness({
      'POST /v1/runs': [ok(aRun([account({ status: 'running', attempt: 1 }), welcome({})]), 201)],
      'GET /v1/runs/run-1/wait': [
        waited(aRun([account({ status: 'completed', attempt: 1 }), welcome({ status: 'running', attempt: 1 })]), 7),
        waited(
          aRun([account({ status: 'completed', attempt: 1 }), welcome({ status: 'completed', attempt: 1 })], {
            status: 'completed',
          }),
          9,
          true,
        ),
      ],
    });
    // When the run is started with --wait
    const code = await t.run('run', 'employee-onboarding', '--wait');
    // Then each wait asked past the position the last one answered, and nothing polled GET /v1/runs/run-1
    const waits = t.requests.filter((r) => r.url.includes('/wait?'));
    expect(waits.map((r) => new URL(r.url).searchParams.get('after'))).toEqual(['0', '7']);
    expect(waits.every((r) => Number(new URL(r.url).searchParams.get('timeoutMs')) <= 20_000)).toBe(true);
    expect(t.requests.some((r) => r.method === 'GET' && new URL(r.url).pathname === '/v1/runs/run-1')).toBe(false);
    expect(t.out.at(-1)).toMatch(/^✓ run run-1 completed/);
    expect(code).toBe(0);
  });

  it('ends with the 404 of a run that vanished while followed, rather than falling back to polling', async () => {
    const gone = harness({
      'POST /v1/runs': [ok(aRun([account({ status: 'running', attempt: 1 })]), 201)],
      'GET /v1/runs/run-1/wait': [failure(404, 'RUN.NOT_FOUND', 'run run-1 does not exist')],
    });
    expect(await gone.run('run', 'employee-onboarding', '--wait')).toBe(2);
    expect(gone.requests.filter((r) => new URL(r.url).pathname === '/v1/runs/run-1')).toEqual([]);
  });

  it('sends a definition file inline and follows it to completion with --wait', async () => {
    // Given a server whose run completes over three polls
    const t = harness({
      'POST /v1/runs': [ok(aRun([account({ status: 'running', attempt: 1 }), welcome({})]), 201)],
      'GET /v1/runs/run-1': [
        ok(aRun([account({ status: 'completed', attempt: 1 }), welcome({ status: 'running', attempt: 1 })])),
        ok(
          aRun([
            account({ status: 'completed', attempt: 1 }),
            welcome({
              status: 'retry_scheduled',
              attempt: 1,
              error: { code: 'STEP.TIMED_OUT', message: 'no result in 10s', retryable: true },
            }),
          ]),
        ),
        ok(
          aRun([account({ status: 'completed', attempt: 1 }), welcome({ status: 'completed', attempt: 2 })], {
            status: 'completed',
          }),
        ),
      ],
    });
    // When the example is run with --wait
    const code = await t.run(
      'run',
      'examples/employee-onboarding.yaml',
      '--input',
      '{"email":"a@b.c"}',
      '--idempotency-key',
      'k',
      '--wait',
    );
    // Then the definition went inline with the input, key and bearer token
    const start = t.requests[0];
    expect(start?.body).toMatchObject({
      definition: { id: 'employee-onboarding', version: 1 },
      input: { email: 'a@b.c' },
      idempotencyKey: 'k',
    });
    expect(start?.headers['authorization']).toBe('Bearer k-1');
    // And each step change printed once, then the summary; exit 0
    expect(t.out).toEqual([
      'Run run-1 — Employee onboarding v1',
      '  ▶ create-account  running (attempt 1)',
      '  ✓ create-account  completed (attempt 1)',
      '  ▶ send-welcome  running (attempt 1)',
      '  ↻ send-welcome  retry scheduled after attempt 1: STEP.TIMED_OUT no result in 10s',
      '  ✓ send-welcome  completed (attempt 2)',
      '✓ run run-1 completed in 1.5s — 2 steps: 2 completed',
    ]);
    expect(code).toBe(0);
  });

  it('sends anything that is not a file as a definition id, and prints only the run with --json', async () => {
    const t = harness({ 'POST /v1/runs': [ok(aRun([]), 201)] });
    const code = await t.run('run', 'employee-onboarding', '--version', '2', '--json');
    expect(t.requests[0]?.body).toEqual({ definitionId: 'employee-onboarding', definitionVersion: 2 });
    expect(t.out).toHaveLength(1);
    expect(JSON.parse(t.out[0] ?? '')).toMatchObject({ id: 'run-1', status: 'running' });
    expect(code).toBe(0);
  });

  it('stops at needs_operator with the attention message and the commands that resolve it (exit 3)', async () => {
    const stuck = aRun(
      [
        account({
          status: 'failed',
          attempt: 3,
          error: { code: 'IDP.DOWN', message: 'identity provider down', retryable: true },
        }),
      ],
      {
        status: 'needs_operator',
        attention: {
          code: 'STEP.RETRIES_EXHAUSTED',
          message: 'create-account failed 3 times',
          stepId: 'create-account',
        },
      },
    );
    const t = harness({
      'POST /v1/runs': [ok(aRun([account({ status: 'running', attempt: 3 })]), 201)],
      'GET /v1/runs/run-1': [ok(stuck)],
    });
    const code = await t.run('run', 'employee-onboarding', '--wait');
    expect(code).toBe(3);
    expect(t.out).toContain('! run run-1 needs an operator: STEP.RETRIES_EXHAUSTED: create-account failed 3 times');
    expect(t.out.some((l) => l.includes('orchestron retry run-1 --step create-account'))).toBe(true);
  });

  it('stops when only a human approval can move the run on (exit 3)', async () => {
    const waiting = aRun([
      account({ status: 'completed', attempt: 1 }),
      aStep('budget-approval', {
        type: 'approval',
        worker: null,
        needs: ['create-account'],
        status: 'waiting_approval',
      }),
      aStep('notify-team', { needs: ['budget-approval'] }),
    ]);
    const t = harness({ 'POST /v1/runs': [ok(waiting, 201)], 'GET /v1/runs/run-1': [ok(waiting)] });
    const code = await t.run('run', 'employee-onboarding', '--wait');
    expect(code).toBe(3);
    expect(t.out).toContain(
      '  ⏸ budget-approval  waiting for approval — orchestron approve run-1 --step budget-approval',
    );
    expect(t.out.some((l) => l.startsWith('⏸ run run-1 is waiting for a human to approve budget-approval'))).toBe(true);
  });

  it('gives up after --timeout with exit 4, and with --json the last line is the error', async () => {
    const running = aRun([account({ status: 'running', attempt: 1 })]);
    const t = harness({ 'POST /v1/runs': [ok(running, 201)], 'GET /v1/runs/run-1': [ok(running)] });
    const code = await t.run('run', 'employee-onboarding', '--wait', '--timeout', '1', '--json');
    expect(code).toBe(4);
    expect(JSON.parse(t.out.at(-1) ?? '')).toMatchObject({
      error: { code: 'CLI.WAIT_TIMEOUT', details: { runId: 'run-1', status: 'running' } },
    });
  });

  it('rejects bad --input JSON before calling the server (exit 2)', async () => {
    const t = harness({});
    const code = await t.run('run', 'employee-onboarding', '--input', '{email}');
    expect(code).toBe(2);
    expect(t.requests).toHaveLength(0);
    expect(t.err[0]).toMatch(/^error: --input: the value is not valid JSON/);
  });

  it('prints every issue of an invalid run input (exit 2)', async () => {
    const t = harness({
      'POST /v1/runs': [
        failure(400, 'RUN.INPUT_INVALID', 'input does not match the schema', {
          issues: [
            { path: '/email', message: 'is required' },
            { path: '/manager', message: 'must be boolean' },
          ],
        }),
      ],
    });
    const code = await t.run('run', 'employee-onboarding', '--input', '{"manager":1}');
    expect(code).toBe(2);
    expect(t.err).toEqual([
      'error: RUN.INPUT_INVALID: input does not match the schema',
      '  /email: is required',
      '  /manager: must be boolean',
    ]);
  });
});

describe('operator actions and errors', () => {
  it('sends the action with step and reason, and exits with the run status', async () => {
    const t = harness({ 'POST /v1/runs/run-1/actions/cancel': [ok(aRun([], { status: 'cancelled' }))] });
    const code = await t.run('cancel', 'run-1', '--reason', 'duplicate', '--json');
    expect(t.requests[0]?.body).toEqual({ reason: 'duplicate' });
    expect(JSON.parse(t.out.at(-1) ?? '')).toMatchObject({ status: 'cancelled' });
    expect(code).toBe(1);
  });

  it('reads skip --output from a file', async () => {
    const t = harness({ 'POST /v1/runs/run-1/actions/skip': [ok(aRun([]))] });
    const code = await t.run('skip', 'run-1', '--step', 'create-workspace', '--output', '@package.json');
    expect(t.requests[0]?.body).toMatchObject({ stepId: 'create-workspace', output: { name: 'orchestron' } });
    expect(code).toBe(0);
  });

  it('prints the code and message of a conflict and exits 2; with --json as the last line', async () => {
    const conflict = failure(409, 'STEP.ALREADY_TERMINAL', 'step create-account is already completed');
    const human = harness({ 'POST /v1/runs/run-1/actions/retry': [conflict] });
    expect(await human.run('retry', 'run-1', '--step', 'create-account')).toBe(2);
    expect(human.err).toEqual(['error: STEP.ALREADY_TERMINAL: step create-account is already completed']);
    const json = harness({ 'POST /v1/runs/run-1/actions/retry': [conflict] });
    expect(await json.run('retry', 'run-1', '--step', 'create-account', '--json')).toBe(2);
    expect(JSON.parse(json.out.at(-1) ?? '')).toMatchObject({
      error: { code: 'STEP.ALREADY_TERMINAL', message: 'step create-account is already completed' },
    });
  });

  it('treats a missing required option as a usage error (exit 2)', async () => {
    const t = harness({});
    expect(await t.run('approve', 'run-1')).toBe(2);
    expect(t.err.join('\n')).toMatch(/required option '--step <stepId>' not specified/);
  });

  it('exits 4 naming the URL and `npm start` when the server cannot be reached', async () => {
    const refused = Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
    const t = harness({ 'GET /v1/runs/run-1': [refused] });
    expect(await t.run('status', 'run-1', '--url', 'http://127.0.0.1:3999/')).toBe(4);
    expect(t.err[0]).toContain('http://127.0.0.1:3999 (ECONNREFUSED)');
    expect(t.err[0]).toContain('npm start');
  });

  it('reads the API key from $ORCHESTRON_DATA/admin.key when no key is set', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orchestron-key-'));
    mkdirSync(join(dir, 'data'));
    writeFileSync(join(dir, 'data', 'admin.key'), 'adm-key\n');
    try {
      const t = harness(
        { 'GET /v1/runs': [{ status: 200, body: { runs: [], agent_contract: null } }] },
        { ORCHESTRON_DATA: 'data' },
        dir,
      );
      expect(await t.run('list', '--status', 'failed', '--limit', '5')).toBe(0);
      expect(t.requests[0]?.headers['authorization']).toBe('Bearer adm-key');
      expect(new URL(t.requests[0]?.url ?? '').search).toBe('?status=failed&limit=5');
      expect(t.out).toEqual(['no runs']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('orchestron history', () => {
  const events = [
    {
      revision: 0,
      position: 1,
      type: 'GovernanceDecided',
      data: {
        stepId: 'create-account',
        outcome: 'deny',
        policyId: 'no-contractors',
        reason: 'contractors need review',
        at: 0,
      },
      metadata: {},
      recordedAt: '2025-01-01T00:00:00.000Z',
    },
    {
      revision: 1,
      position: 2,
      type: 'StepFailed',
      data: {
        stepId: 'send-welcome',
        attempt: 5,
        error: { code: 'MAIL.REJECTED', message: 'bad address', retryable: false },
        at: 0,
      },
      metadata: {},
      recordedAt: '2025-01-01T00:00:01.000Z',
    },
    {
      revision: 2,
      position: 3,
      type: 'RunCancelled',
      data: { by: 'alice', reason: 'duplicate', at: 0 },
      metadata: {},
      recordedAt: '2025-01-01T00:00:02.000Z',
    },
  ];

  it('prints one line per event with governance, failure and operator details', async () => {
    const t = harness({ 'GET /v1/runs/run-1/events': [{ status: 200, body: { events, agent_contract: null } }] });
    expect(await t.run('history', 'run-1')).toBe(0);
    expect(t.out).toEqual([
      '0  2025-01-01T00:00:00.000Z  GovernanceDecided  create-account outcome=deny policy=no-contractors reason="contractors need review"',
      '1  2025-01-01T00:00:01.000Z  StepFailed         send-welcome attempt 5 MAIL.REJECTED: bad address',
      '2  2025-01-01T00:00:02.000Z  RunCancelled       by=alice reason="duplicate"',
    ]);
  });

  it('answers 404 for an unknown run with exit 2', async () => {
    const t = harness({ 'GET /v1/runs/nope/events': [failure(404, 'RUN.NOT_FOUND', 'no run nope')] });
    expect(await t.run('history', 'nope')).toBe(2);
    expect(t.err).toEqual(['error: RUN.NOT_FOUND: no run nope']);
  });
});

describe('orchestron keys', () => {
  const view = { id: 'k1', role: 'operator', subject: 'ann', tenant: 'acme', source: 'api' as const };
  const times = { createdAt: null, createdBy: null, expiresAt: null, revokedAt: null };

  it('create sends each --group, and shows the groups of the key issued and of every key listed', async () => {
    const t = harness({
      'POST /v1/keys': [{ status: 201, body: { key: { ...view, ...times, groups: ['finance', 'hr'] }, token: 't' } }],
      'GET /v1/keys': [{ status: 200, body: { keys: [{ ...view, ...times, groups: ['finance', 'hr'] }] } }],
    });
    const args = ['--role', 'operator', '--subject', 'ann', '--tenant', 'acme', '--group', 'finance', '--group', 'hr'];
    expect(await t.run('keys', 'create', ...args)).toBe(0);
    expect(t.requests[0]?.body).toEqual({
      role: 'operator',
      subject: 'ann',
      tenant: 'acme',
      groups: ['finance', 'hr'],
    });
    expect(t.out[0]).toBe('key k1: operator ann in tenant acme, groups finance, hr');
    expect(await t.run('keys', 'list')).toBe(0);
    expect(t.out.slice(-2).map((l) => l.trim().split(/\s+/))).toEqual([
      ['ID', 'ROLE', 'SUBJECT', 'TENANT', 'SOURCE', 'STATE', 'GROUPS'],
      ['k1', 'operator', 'ann', 'acme', 'api', 'live', 'finance,hr'],
    ]);
  });

  it('create without --group sends no groups', async () => {
    const t = harness({ 'POST /v1/keys': [{ status: 201, body: { key: { ...view, ...times }, token: 't' } }] });
    expect(await t.run('keys', 'create', '--role', 'operator', '--subject', 'ann')).toBe(0);
    expect(t.requests[0]?.body).toEqual({ role: 'operator', subject: 'ann' });
    expect(t.out[0]).toBe('key k1: operator ann in tenant acme');
  });
});
