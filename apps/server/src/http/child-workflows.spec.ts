import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createInMemoryBus } from '@orchestron/bus';
import { createInMemoryEventStore } from '@orchestron/event-store';
import { Engine } from '@orchestron/runtime';
import { createHttpApp } from './app.ts';
import type { HttpApp } from './app.ts';

/** Workflow steps through the HTTP API: the link both ways in the run view, per tenant, tried as an attacker too. */
const key = (name: string): string => `${name}-key-0123456789`;
const KEYS = [
  { key: key('alice'), role: 'producer', name: 'alice', tenant: 'acme' },
  { key: key('olga'), role: 'operator', name: 'olga', tenant: 'acme' },
  { key: key('greg'), role: 'operator', name: 'greg', tenant: 'globex' },
] as const;

const review = { id: 'review', version: 1, steps: { sign: { type: 'approval' } } };
const contract = {
  id: 'contract',
  version: 1,
  steps: {
    reviewed: { type: 'workflow', workflow: { id: 'review' }, input: { doc: '${{ input.doc }}' } },
    filed: { type: 'approval', needs: ['reviewed'] },
  },
};

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('workflow steps over HTTP', () => {
  let engine: Engine;
  let app: HttpApp;

  const call = async (url: string, who: string, method: 'GET' | 'POST' = 'GET', body?: unknown) => {
    const res = await app.nest.inject({
      method,
      url,
      ...(body !== undefined ? { payload: body as Json } : {}),
      headers: { authorization: `Bearer ${key(who)}`, 'content-type': 'application/json' },
    });
    return { status: res.statusCode, body: res.json() as Json };
  };
  const runOf = async (id: string, who = 'olga'): Promise<Json> => (await call(`/v1/runs/${id}`, who)).body.run as Json;
  const until = async (what: string, probe: () => Promise<boolean>): Promise<void> => {
    for (let i = 0; i < 300; i++) {
      if (await probe()) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error(`timed out waiting for ${what}`);
  };
  const startWithChild = async (doc: string): Promise<{ runId: string; childId: string }> => {
    const started = await call('/v1/runs', 'alice', 'POST', { definitionId: 'contract', input: { doc } });
    const runId = started.body.run.id as string;
    let childId = '';
    await until('the child at its gate', async () => {
      childId = ((await runOf(runId)).steps[0].childRunId as string | null) ?? '';
      return childId !== '' && (await runOf(childId))?.steps?.[0]?.status === 'waiting_approval';
    });
    return { runId, childId };
  };

  beforeAll(async () => {
    engine = new Engine({ store: createInMemoryEventStore(), bus: createInMemoryBus() });
    await engine.start();
    for (const def of [review, contract]) await engine.definitions.register(def, 'test', 'acme');
    await engine.definitions.register(contract, 'test', 'globex');
    app = await createHttpApp({ runs: engine, keys: KEYS });
  });

  afterAll(async () => {
    await engine.stop();
    await app.close();
  });

  it("shows the parent step's child run and the child's parent, and the child's output once it completes", async () => {
    const { runId, childId } = await startWithChild('d-1');
    expect((await runOf(runId)).steps[0]).toMatchObject({
      id: 'reviewed',
      type: 'workflow',
      status: 'waiting_child',
      attempt: 1,
      childRunId: childId,
      workflow: { id: 'review', version: null },
      input: { doc: 'd-1' },
    });
    const read = (await call(`/v1/runs/${runId}`, 'alice')).body;
    expect(read.agent_contract.next_actions).toContainEqual(
      expect.objectContaining({ action: 'get_child_run', method: 'GET', endpoint: `/v1/runs/${childId}` }),
    );
    const childRead = (await call(`/v1/runs/${childId}`, 'alice')).body;
    expect(childRead.agent_contract.next_actions).toContainEqual(
      expect.objectContaining({ action: 'get_parent_run', method: 'GET', endpoint: `/v1/runs/${runId}` }),
    );
    const child = await runOf(childId, 'alice');
    expect(child).toMatchObject({ parent: { runId, stepId: 'reviewed', depth: 1 }, input: { doc: 'd-1' } });
    expect((await runOf(runId)).parent).toBeNull();
    expect((await call(`/v1/runs/${childId}/actions/approve`, 'olga', 'POST', { stepId: 'sign' })).status).toBe(200);
    await until('the parent at its next gate', async () => (await runOf(runId)).steps[1].status === 'waiting_approval');
    expect((await runOf(runId)).steps[0]).toMatchObject({
      status: 'completed',
      output: { sign: { approved: true, by: 'operator:olga' } },
    });
  });

  it("keeps the child in the parent's tenant: another tenant can neither read nor cancel it", async () => {
    const { runId, childId } = await startWithChild('d-2');
    expect((await call(`/v1/runs/${childId}`, 'greg')).status).toBe(404);
    expect((await call(`/v1/runs/${childId}/actions/cancel`, 'greg', 'POST', { reason: 'x' })).status).toBe(404);
    expect((await runOf(childId)).status).toBe('running');
    // The parent's cancel reaches the child.
    expect((await call(`/v1/runs/${runId}/actions/cancel`, 'olga', 'POST', { reason: 'withdrawn' })).status).toBe(200);
    await until('the child cancelled', async () => (await runOf(childId)).status === 'cancelled');
  });

  it('fails the step clearly when the child definition is not in the tenant', async () => {
    const started = await call('/v1/runs', 'greg', 'POST', { definitionId: 'contract', input: { doc: 'g' } });
    const runId = started.body.run.id as string;
    await until('the step failed', async () => (await runOf(runId, 'greg')).steps[0].status === 'failed');
    expect((await runOf(runId, 'greg')).steps[0].error).toMatchObject({
      code: 'CHILD.NOT_STARTED',
      message: expect.stringContaining('no definition "review" is registered in tenant globex'),
    });
  });
});
