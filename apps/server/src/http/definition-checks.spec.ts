import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { createInMemoryBus } from '@orchestron/bus';
import { createInMemoryEventStore } from '@orchestron/event-store';
import { Engine } from '@orchestron/runtime';
import { createHttpApp } from './app.ts';
import type { HttpApp } from './app.ts';

/* A definition that would fail only at run time is refused when it is registered, over HTTP, naming the path. */

const ADMIN = 'admin-key-0123456789';
const KEYS = [{ key: ADMIN, role: 'admin', name: 'root' }] as const;

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const definition = (steps: Record<string, unknown>) => ({ id: 'checked', version: 1, steps });
const BAD: readonly { name: string; steps: Record<string, unknown>; path: string; says: string }[] = [
  {
    name: 'an unknown identifier',
    steps: { a: { worker: 'w', when: "${{ process.env.HOME != '' }}" } },
    path: '/steps/a/when',
    says: 'reads unknown identifier "process"',
  },
  {
    name: 'an unguarded read under any_success',
    steps: {
      a: { worker: 'w' },
      b: { worker: 'w' },
      c: { worker: 'w', needs: ['a', 'b'], join: 'any_success', input: { id: '${{ steps.a.output.id }}' } },
    },
    path: '/steps/c/input/id',
    says: 'reads steps["a"].output, but "c" starts when its join any_success is met',
  },
  {
    name: 'an empty compensate',
    steps: { a: { worker: 'w', compensate: {} } },
    path: '/steps/a/compensate',
    says: 'compensation needs an action',
  },
];

describe('definitions checked when registered, over HTTP', () => {
  let engine: Engine;
  let app: HttpApp;

  beforeEach(async () => {
    engine = new Engine({ store: createInMemoryEventStore(), bus: createInMemoryBus() });
    await engine.start();
    app = await createHttpApp({ runs: engine, keys: KEYS });
  });

  afterEach(async () => {
    await engine.stop();
    await app.close();
  });

  const post = async (url: string, body: unknown) => {
    const res = await app.nest.inject({
      method: 'POST',
      url,
      payload: body as Json,
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    return { status: res.statusCode, body: res.json() as Json };
  };

  it.each(BAD)('POST /v1/definitions refuses $name with 400 DEFINITION.INVALID naming $path', async (bad) => {
    const refused = await post('/v1/definitions', definition(bad.steps));
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe('DEFINITION.INVALID');
    expect(refused.body.error.retryable).toBe(false);
    expect(refused.body.error.details.issues).toEqual([{ path: bad.path, message: expect.stringContaining(bad.says) }]);
    expect(
      (
        await app.nest.inject({
          method: 'GET',
          url: '/v1/definitions/checked',
          headers: { authorization: `Bearer ${ADMIN}` },
        })
      ).statusCode,
    ).toBe(404);
  });

  it.each(BAD)('POST /v1/definitions/validate lists $name at $path', async (bad) => {
    const checked = await post('/v1/definitions/validate', definition(bad.steps));
    expect(checked.status).toBe(200);
    expect(checked.body).toMatchObject({
      valid: false,
      issues: [{ path: bad.path, message: expect.stringContaining(bad.says) }],
    });
  });

  it('refuses an inline definition on POST /v1/runs the same way, and starts nothing', async () => {
    const refused = await post('/v1/runs', { definition: definition(BAD[0]?.steps ?? {}), input: {} });
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe('DEFINITION.INVALID');
    expect(refused.body.error.details.issues[0].path).toBe('/steps/a/when');
    expect(await engine.listRuns({})).toHaveLength(0);
  });

  it('registers the guarded form of the same read', async () => {
    const guarded = definition({
      a: { worker: 'w' },
      b: { worker: 'w' },
      c: {
        worker: 'w',
        needs: ['a', 'b'],
        join: 'any_success',
        input: { id: "${{ steps.a.status == 'completed' ? steps.a.output.id : null }}" },
      },
    });
    expect((await post('/v1/definitions', guarded)).status).toBe(201);
  });
});
