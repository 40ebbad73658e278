import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { createInMemoryBus } from '@orchestron/bus';
import { parseDefinitionText } from '@orchestron/definitions';
import { createInMemoryEventStore } from '@orchestron/event-store';
import { createOnboardingWorkers } from '@orchestron/example-workers';
import { Engine } from '@orchestron/runtime';
import { eventually } from '@orchestron/runtime/testing';
import type { Worker } from '@orchestron/worker-sdk';
import { KeyRing } from '../keys/key-ring.ts';
import { createHttpApp } from './app.ts';
import type { HttpApp } from './app.ts';
import { matchesAssignee } from './assignees.ts';
import { MAX_GROUPS } from './auth.ts';

/** Approval gates' `assignees` over HTTP: only an admin key or a key matching an assignee decides an assigned gate. */
const key = (name: string): string => `${name}-key-0123456789`;
const KEYS = [
  { key: key('admin'), role: 'admin', name: 'root' },
  { key: key('alice'), role: 'producer', name: 'alice', tenant: 'acme' },
  { key: key('fin'), role: 'operator', name: 'fin-ops', tenant: 'acme', groups: ['finance'] },
  { key: key('hr'), role: 'operator', name: 'hr-ops', tenant: 'acme', groups: ['hr', 'payroll'] },
  { key: key('plain'), role: 'operator', name: 'plain-ops', tenant: 'acme' },
  { key: key('globex-fin'), role: 'operator', name: 'globex-fin', tenant: 'globex', groups: ['finance'] },
] as const;
// Its budget-approval gate is assigned to role:finance.
const onboarding = parseDefinitionText(
  readFileSync(new URL('../../../../examples/employee-onboarding.yaml', import.meta.url), 'utf8'),
);
const plainGate = { id: 'plain-gate', version: 1, steps: { gate: { type: 'approval' } } };
// Finance first; when its hour passes, hr as well (escalateAfter: another hour).
const escalating = {
  id: 'escalating-gate',
  version: 1,
  steps: { gate: { type: 'approval', assignees: ['role:finance'], timeout: '1h', escalateTo: ['group:hr'] } },
};

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('approval gates with assignees, over HTTP', () => {
  let engine: Engine;
  let ring: KeyRing;
  let app: HttpApp;
  let workers: Worker[];

  beforeEach(async () => {
    const bus = createInMemoryBus();
    const store = createInMemoryEventStore();
    engine = new Engine({ store, bus });
    workers = createOnboardingWorkers({ bus, workMs: 0 });
    for (const w of workers) await w.start();
    await engine.start();
    await engine.definitions.register(onboarding, 'test', 'acme');
    await engine.definitions.register(plainGate, 'test', 'acme');
    await engine.definitions.register(escalating, 'test', 'acme');
    ring = await KeyRing.open({ config: KEYS, store });
    app = await createHttpApp({ runs: engine, keys: ring });
  });

  afterEach(async () => {
    for (const w of workers) await w.stop();
    await engine.stop();
    await app.close();
    ring.close();
  });

  const call = async (url: string, who: string, body?: unknown, method: 'GET' | 'POST' = 'POST') => {
    const res = await app.nest.inject({
      method,
      url,
      ...(body !== undefined ? { payload: body as Json } : {}),
      headers: { authorization: `Bearer ${who.startsWith('orn_') ? who : key(who)}` },
    });
    return { status: res.statusCode, body: res.json() as Json };
  };
  const runOf = async (id: string): Promise<Json> => (await call(`/v1/runs/${id}`, 'admin', undefined, 'GET')).body.run;
  /** A run by alice, once its gate waits for approval. */
  const atGate = async (definitionId: string, gate: string): Promise<Json> => {
    const started = await call('/v1/runs', 'alice', { definitionId, input: { email: 'm@example.com', manager: true } });
    expect(started.status).toBe(201);
    return eventually(`${gate} waiting for approval`, async () => {
      const run = await runOf(started.body.run.id as string);
      return run.steps.find((s: Json) => s.id === gate)?.status === 'waiting_approval' && run;
    });
  };
  const act = (run: Json, action: string, who: string, body: Json = { stepId: 'budget-approval' }) =>
    call(`/v1/runs/${run.id}/actions/${action}`, who, body);

  it('refuses a key of another group, naming the step, its assignees and the groups; the run is unchanged', async () => {
    const run = await atGate('employee-onboarding', 'budget-approval');
    for (const [action, who, body] of [
      ['approve', 'hr', undefined],
      ['reject', 'hr', undefined],
      ['approve', 'plain', undefined],
      ['skip', 'hr', { stepId: 'budget-approval', output: { approved: true } }],
    ] as const) {
      const refused = await act(run, action, who, body);
      expect({ action, who, status: refused.status, code: refused.body.error.code }).toEqual({
        action,
        who,
        status: 403,
        code: 'AUTH.FORBIDDEN',
      });
    }
    const refused = await act(run, 'approve', 'hr');
    expect(refused.body.error.message).toBe(
      `step "budget-approval" of run ${run.id} is assigned to role:finance; key cfg-hr-ops (operator:hr-ops) holds groups hr, payroll, so only an admin key or a key matching an assignee may decide it`,
    );
    expect(refused.body.error.details).toEqual({
      field: 'stepId',
      stepId: 'budget-approval',
      assignees: ['role:finance'],
      groups: ['hr', 'payroll'],
    });
    expect((await act(run, 'approve', 'plain')).body.error.message).toContain('holds groups none');
    expect((await runOf(run.id)).steps.find((s: Json) => s.id === 'budget-approval').status).toBe('waiting_approval');
    const history = await call(`/v1/runs/${run.id}/events`, 'admin', undefined, 'GET');
    const decided = history.body.events.filter((e: Json) => e.data.stepId === 'budget-approval');
    expect(decided.map((e: Json) => e.type)).toEqual(['ApprovalRequested']);
  });

  it('lets a key of the group approve, and the run goes on to complete', async () => {
    const run = await atGate('employee-onboarding', 'budget-approval');
    const approved = await act(run, 'approve', 'fin', { stepId: 'budget-approval', reason: 'within budget' });
    expect(approved.status).toBe(200);
    const done = await eventually('the run completed', async () => {
      const now = await runOf(run.id);
      return now.status === 'completed' && now;
    });
    expect(done.steps.find((s: Json) => s.id === 'budget-approval').output).toMatchObject({ by: 'operator:fin-ops' });
  });

  it('lets a key of the group reject, which fails the gate', async () => {
    const run = await atGate('employee-onboarding', 'budget-approval');
    expect((await act(run, 'reject', 'fin', { stepId: 'budget-approval', reason: 'over budget' })).status).toBe(200);
    const gate = (await runOf(run.id)).steps.find((s: Json) => s.id === 'budget-approval');
    expect(gate).toMatchObject({ status: 'failed', error: { code: 'APPROVAL.REJECTED' } });
  });

  it('lets an admin key decide any gate, whatever its groups', async () => {
    const run = await atGate('employee-onboarding', 'budget-approval');
    expect((await act(run, 'approve', 'admin')).status).toBe(200);
  });

  it("answers another tenant's key of the right group 404, as for any run it may not see", async () => {
    const run = await atGate('employee-onboarding', 'budget-approval');
    const refused = await act(run, 'approve', 'globex-fin');
    expect(refused.status).toBe(404);
    expect(refused.body.error.code).toBe('RUN.NOT_FOUND');
  });

  it('leaves a gate without assignees to any operator, as before', async () => {
    const run = await atGate('plain-gate', 'gate');
    expect((await act(run, 'approve', 'plain', { stepId: 'gate' })).status).toBe(200);
    expect((await runOf(run.id)).status).toBe('completed');
  });

  it('lets a key of escalateTo decide the gate only once its timeout escalated it; the first group still may', async () => {
    // The timer wheel would fire the gate's timeout in an hour; it fires it through the engine exactly so.
    const timeOut = (run: Json) =>
      engine.execute(run.id as string, { type: 'FireTimer', data: { timerId: 'gate:approval:0' } }, 'system:timer');
    const run = await atGate('escalating-gate', 'gate');
    const gate = { stepId: 'gate' };
    const before = await act(run, 'approve', 'hr', gate);
    expect([before.status, before.body.error.details.assignees]).toEqual([403, ['role:finance']]);
    expect(run.steps[0]).toMatchObject({ assignees: ['role:finance'], escalatedTo: null });
    await timeOut(run);
    const escalated = await runOf(run.id);
    expect(escalated).toMatchObject({ status: 'running', attention: null });
    expect(escalated.steps[0]).toMatchObject({
      status: 'waiting_approval',
      assignees: ['role:finance', 'group:hr'],
      escalatedTo: ['group:hr'],
    });
    const plain = await act(run, 'approve', 'plain', gate);
    expect([plain.status, plain.body.error.details.assignees]).toEqual([403, ['role:finance', 'group:hr']]);
    expect(plain.body.error.message).toContain('is assigned to role:finance, group:hr;');
    expect((await act(run, 'approve', 'hr', gate)).status).toBe(200);
    expect((await runOf(run.id)).status).toBe('completed');
    // and on another run, the first group still decides an escalated gate
    const other = await atGate('escalating-gate', 'gate');
    await timeOut(other);
    expect((await act(other, 'reject', 'fin', gate)).status).toBe(200);
  });

  it("issues a key with groups, shows them, and the key's groups decide the gate", async () => {
    const issued = await call('/v1/keys', 'admin', {
      role: 'operator',
      subject: 'fran',
      tenant: 'acme',
      groups: ['finance', 'finance', 'audit.eu'],
    });
    expect(issued.status).toBe(201);
    expect(issued.body.key).toMatchObject({ subject: 'fran', groups: ['finance', 'audit.eu'] });
    const listed = await call('/v1/keys?tenant=acme', 'admin', undefined, 'GET');
    expect(listed.body.keys).toContainEqual(
      expect.objectContaining({ subject: 'fran', groups: ['finance', 'audit.eu'] }),
    );
    const run = await atGate('employee-onboarding', 'budget-approval');
    expect((await act(run, 'approve', issued.body.token as string)).status).toBe(200);
  });

  it('refuses bad groups for a new key with 400 naming "groups"', async () => {
    const many = Array.from({ length: MAX_GROUPS + 1 }, (_, i) => `g${i}`);
    for (const [groups, got] of [
      [['finance', 'bad group!'], 'groups[1] is "bad group!"'],
      [['role:finance'], 'groups[0] is "role:finance"'],
      [[''], 'groups[0] is ""'],
      [['x'.repeat(64)], 'groups[0] is'],
      [[7], 'groups[0] is a number'],
      [many, `got ${MAX_GROUPS + 1}`],
      ['finance', 'must be a list'],
      [{ finance: true }, 'must be a list'],
    ] as const) {
      const refused = await call('/v1/keys', 'admin', { role: 'operator', subject: 'x', groups });
      expect({ groups, status: refused.status, field: refused.body.error.details?.field }).toEqual({
        groups,
        status: 400,
        field: 'groups',
      });
      expect(refused.body.error.message).toContain('"groups" must be a list of at most 32 group names');
      expect(refused.body.error.message).toContain(got);
    }
  });
});

describe('the assignee matching rule', () => {
  const ann = { subject: 'ann', groups: ['finance', 'hr'] };

  it('matches group:<g>, role:<g> and a bare <g> to a key holding group g', () => {
    for (const assignee of ['group:finance', 'role:finance', 'finance', 'role:hr'])
      expect({ assignee, matches: matchesAssignee(assignee, ann) }).toEqual({ assignee, matches: true });
    for (const assignee of ['group:legal', 'role:legal', 'legal', 'Finance', 'role:', 'group:finance:eu'])
      expect({ assignee, matches: matchesAssignee(assignee, ann) }).toEqual({ assignee, matches: false });
  });

  it("matches user:<name> to the key's subject only", () => {
    expect(matchesAssignee('user:ann', ann)).toBe(true);
    expect(matchesAssignee('user:bob', ann)).toBe(false);
    expect(matchesAssignee('user:finance', ann)).toBe(false);
  });

  it('matches no key for another kind of assignee', () => {
    expect(matchesAssignee('team:finance', ann)).toBe(false);
    expect(matchesAssignee('email:ann', ann)).toBe(false);
  });
});
