import { describe, expect, it } from '@jest/globals';
import { createApiClient } from './api.client.ts';
import type { FetchLike } from './api.client.ts';

const run = { id: 'r1', status: 'running', steps: [] };

/** Answers POST /v1/runs from a script of statuses, recording each request body. */
function scripted(statuses: number[]): { fetch: FetchLike; bodies: Record<string, unknown>[] } {
  const bodies: Record<string, unknown>[] = [];
  const fetch: FetchLike = async (_url, init) => {
    bodies.push(JSON.parse(String(init.body)) as Record<string, unknown>);
    const status = statuses.shift() ?? 201;
    const body =
      status === 202
        ? { run: { id: 'r1', status: 'accepted' }, accepted: { runId: 'r1', idempotencyKey: 'generated-k' } }
        : { run, agent_contract: null };
    return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  };
  return { fetch, bodies };
}

describe('api client: a start the server accepted but has not started yet (202)', () => {
  it('asks again with the idempotency key the 202 names, until the run has started', async () => {
    const { fetch, bodies } = scripted([202, 202, 201]);
    const client = createApiClient({ baseUrl: 'http://orchestron.test', apiKey: 'k' }, fetch);
    const started = await client.startRun({ definitionId: 'd', input: { n: 1 } });
    expect(started.run).toEqual(run);
    expect(started.existing).toBe(false);
    expect(bodies).toEqual([
      { definitionId: 'd', input: { n: 1 } },
      { definitionId: 'd', input: { n: 1 }, idempotencyKey: 'generated-k' },
      { definitionId: 'd', input: { n: 1 }, idempotencyKey: 'generated-k' },
    ]);
  });

  it('a 200 after a 202 is the run the first ask recorded, reported as started (not as an existing key)', async () => {
    const { fetch } = scripted([202, 200]);
    const client = createApiClient({ baseUrl: 'http://orchestron.test', apiKey: 'k' }, fetch);
    const started = await client.startRun({ definitionId: 'd' });
    expect(started.run.id).toBe('r1');
    expect(started.existing).toBe(false);
  });
});
