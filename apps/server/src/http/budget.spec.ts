import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createInMemoryBus } from '@orchestron/bus';
import { createInMemoryEventStore } from '@orchestron/event-store';
import { llmHandlers, standInModel } from '@orchestron/example-workers';
import { Engine } from '@orchestron/runtime';
import { createWorker } from '@orchestron/worker-sdk';
import type { Worker } from '@orchestron/worker-sdk';
import { createHttpApp } from './app.ts';
import type { HttpApp } from './app.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const key = (name: string): string => `${name}-key-0123456789`;
const KEYS = [
  { key: key('alice'), role: 'producer', name: 'alice', tenant: 'acme' },
  { key: key('olga'), role: 'operator', name: 'olga', tenant: 'acme' },
  { key: key('otto'), role: 'operator', name: 'otto', tenant: 'globex' },
] as const;

/** classify → draft → review on the stand-in model, capped at 400 tokens: a long ticket passes it after draft. */
const agent = {
  id: 'agent',
  version: 1,
  budget: { tokens: 400 },
  onFailure: 'escalate',
  steps: {
    classify: { worker: 'llm', action: 'classify', input: { text: '${{ input.text }}' } },
    draft: { worker: 'llm', action: 'draft', needs: ['classify'], input: { text: '${{ input.text }}' } },
    review: { worker: 'llm', action: 'review', needs: ['draft'], input: { text: '${{ steps.draft.output.text }}' } },
  },
};

/** Budgets over HTTP: set at the start or by the definition, shown in the run, raised by an operator with a reason. */
describe('budgets over HTTP', () => {
  let engine: Engine;
  let app: HttpApp;
  let worker: Worker;
  const bus = createInMemoryBus();
  const ticket = 'The invoice total is wrong and the quote said otherwise. '.repeat(12);

  const call = async (url: string, who: string, method: 'GET' | 'POST' = 'GET', body?: Json) => {
    const res = await app.nest.inject({
      method,
      url,
      ...(body !== undefined ? { payload: body } : {}),
      headers: { authorization: `Bearer ${key(who)}` },
    });
    return { status: res.statusCode, body: res.json() as Json };
  };
  const settled = async (id: string, after?: number) =>
    (await call(`/v1/runs/${id}/wait?timeoutMs=10000${after !== undefined ? `&after=${after}` : ''}`, 'olga')).body;
  const stopped = async (body?: Json): Promise<Json> => {
    const started = await call('/v1/runs', 'alice', 'POST', {
      definitionId: 'agent',
      input: { text: ticket },
      ...body,
    });
    expect(started.status).toBe(201);
    let answer = await settled(started.body.run.id as string, 0);
    for (let i = 0; i < 20 && answer.run.status === 'running'; i++)
      answer = await settled(answer.run.id as string, answer.wait.position as number);
    return answer;
  };

  beforeAll(async () => {
    engine = new Engine({ store: createInMemoryEventStore(), bus });
    worker = createWorker({ name: 'llm', bus, handlers: llmHandlers(standInModel()) });
    await worker.start();
    await engine.start();
    await engine.definitions.register(agent, 'test', 'acme');
    app = await createHttpApp({ runs: engine, keys: KEYS });
  });

  afterAll(async () => {
    await worker.stop();
    await engine.stop();
    await app.close();
  });

  it('stops a run past its budget with usage per step, and goes on once an operator raises it', async () => {
    const answer = await stopped();
    const run = answer.run as Json;
    expect(run.status).toBe('needs_operator');
    expect(run.attention).toMatchObject({ code: 'BUDGET.EXCEEDED', stepId: null });
    expect(run.budget).toEqual({ tokens: 400 });
    expect(run.usage.inputTokens + run.usage.outputTokens).toBeGreaterThan(400);
    expect(run.steps.map((s: Json) => [s.id, s.status, s.usage?.inputTokens > 0])).toEqual([
      ['classify', 'completed', true],
      ['draft', 'completed', true],
      ['review', 'pending', false],
    ]);
    expect(answer.agent_contract.next_actions.map((a: Json) => a.action)).toEqual(
      expect.arrayContaining(['raise-budget', 'cancel']),
    );
    const raised = await call(`/v1/runs/${run.id}/actions/raise-budget`, 'olga', 'POST', {
      budget: { tokens: 20_000 },
      reason: 'long ticket',
    });
    expect(raised.status).toBe(200);
    const done = await settled(run.id as string);
    expect(done.run.status).toBe('completed');
    const events = (await call(`/v1/runs/${run.id}/events`, 'olga')).body.events as Json[];
    expect(events.find((e) => e.type === 'BudgetRaised')?.data).toMatchObject({
      budget: { tokens: 20_000 },
      previous: { tokens: 400 },
      by: 'operator:olga',
      reason: 'long ticket',
    });
  });

  it('takes a start’s budget over the definition’s, and refuses a bad one naming the field', async () => {
    const costly = await stopped({ budget: { cost: { amount: 0.0001, currency: 'USD' } } });
    expect(costly.run.budget).toEqual({ cost: { amount: 0.0001, currency: 'USD' } });
    expect(costly.run.attention.message).toMatch(/spent .* USD, over its budget of 0.0001 USD/);
    for (const [budget, message] of [
      [{}, /"budget" needs "tokens", "cost" or both/],
      [{ tokens: -1 }, /"budget.tokens" must be >= 1/],
      [{ cost: { amount: 1, currency: 'dollars' } }, /"budget.cost.currency" must match pattern/],
      [{ tokens: 10, gold: 1 }, /"budget" has an unknown field "gold"/],
    ] as const) {
      const refused = await call('/v1/runs', 'alice', 'POST', { definitionId: 'agent', input: { text: 'x' }, budget });
      expect(refused).toMatchObject({
        status: 400,
        body: { error: { code: 'REQUEST.INVALID', details: { field: 'budget' } } },
      });
      expect(refused.body.error.message).toMatch(message);
    }
  });

  it('lets only an operator of the run’s tenant raise a budget, and only with a reason and a budget above the use', async () => {
    const run = (await stopped()).run as Json;
    const url = `/v1/runs/${run.id}/actions/raise-budget`;
    expect((await call(url, 'alice', 'POST', { budget: { tokens: 9999 }, reason: 'me' })).status).toBe(403);
    expect((await call(url, 'otto', 'POST', { budget: { tokens: 9999 }, reason: 'me' })).body.error.code).toBe(
      'RUN.NOT_FOUND',
    );
    expect((await call(url, 'olga', 'POST', { budget: { tokens: 9999 } })).body.error.details).toEqual({
      field: 'reason',
    });
    const low = await call(url, 'olga', 'POST', { budget: { tokens: 401 }, reason: 'a little' });
    expect(low.status).toBe(400);
    expect(low.body.error.message).toMatch(/still exceeded/);
    expect((await call(`/v1/runs/${run.id}`, 'olga')).body.run.status).toBe('needs_operator');
  });
});
