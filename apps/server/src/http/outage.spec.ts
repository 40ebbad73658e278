import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { createInMemoryBus } from '@orchestron/bus';
import type { MessageBus } from '@orchestron/bus';
import { OrchestronError } from '@orchestron/errors';
import { createInMemoryEventStore, EventStoreUnavailableError } from '@orchestron/event-store';
import type { EventStore } from '@orchestron/event-store';
import { Engine, RemoteRuns } from '@orchestron/runtime';
import { createHttpApp } from './app.ts';
import type { HttpApp } from './app.ts';

const PRODUCER = 'producer-key-0123456789';
const OPERATOR = 'operator-key-0123456789';
const KEYS = [
  { key: PRODUCER, role: 'producer', name: 'shop' },
  { key: OPERATOR, role: 'operator', name: 'ops' },
] as const;
const definition = {
  id: 'outage',
  version: 1,
  defaults: { retry: { maxAttempts: 1 }, timeout: '10s' },
  steps: { only: { worker: 'nobody' } },
};
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The API's view of its dependencies, each of which can be taken away as a broker or database restart would. */
function outages(store: EventStore, bus: MessageBus) {
  const down = { store: false, bus: false };
  const storeDown = (): void => {
    if (down.store) throw new EventStoreUnavailableError('postgres event store could not read (ECONNREFUSED)');
  };
  const guardedStore: EventStore = {
    ...store,
    append: async (...args) => (storeDown(), store.append(...args)),
    readStream: async (...args) => (storeDown(), store.readStream(...args)),
    readAll: async (...args) => (storeDown(), store.readAll(...args)),
    streamRevision: async (...args) => (storeDown(), store.streamRevision(...args)),
    subscribeToAll: (...args) => store.subscribeToAll(...args),
    close: () => store.close(),
  };
  const guardedBus: MessageBus = {
    publish: async (topic, messages) => {
      if (down.bus) throw new OrchestronError('BUS.UNAVAILABLE', `publish to ${topic}: Kafka is unavailable`);
      await bus.publish(topic, messages);
    },
    ensureTopics: async (topics) => {
      if (down.bus) throw new OrchestronError('BUS.UNAVAILABLE', 'create topics: Kafka is unavailable');
      await bus.ensureTopics(topics);
    },
    subscribe: (options, handler) => bus.subscribe(options, handler),
    partitionOf: (topic, key) => bus.partitionOf(topic, key),
    close: () => bus.close(),
  };
  return { down, store: guardedStore, bus: guardedBus };
}

describe('the API in an outage: a start is accepted, everything else is a retryable 503', () => {
  let app: HttpApp;
  let engine: Engine;
  let api: RemoteRuns;
  let down: { store: boolean; bus: boolean };

  beforeEach(async () => {
    const store = createInMemoryEventStore();
    const bus = createInMemoryBus({ partitions: 3 });
    engine = new Engine({ store, bus });
    await engine.start();
    await engine.definitions.register(definition, 'test');
    const edge = outages(store, bus);
    down = edge.down;
    api = new RemoteRuns({ store: edge.store, bus: edge.bus, waitMs: 5_000 });
    await api.start();
    app = await createHttpApp({ runs: api, keys: KEYS });
  });

  afterEach(async () => {
    await app.close();
    await api.stop();
    await engine.stop();
  });

  const call = async (method: 'GET' | 'POST', url: string, body?: Json, key = OPERATOR) => {
    const res = await app.nest.inject({
      method,
      url,
      ...(body !== undefined ? { payload: body } : {}),
      headers: { authorization: `Bearer ${key}` },
    });
    return { status: res.statusCode, retryAfter: res.headers['retry-after'], body: res.json() as Json };
  };

  const expectUnavailable = (
    answer: Awaited<ReturnType<typeof call>>,
    code: 'BUS.UNAVAILABLE' | 'STORE.UNAVAILABLE',
    method: string,
    url: string,
  ): void => {
    expect(answer.status).toBe(503);
    expect(answer.retryAfter).toBe('5');
    expect(answer.body.error).toMatchObject({ code, retryable: true });
    expect(answer.body.agent_contract).toEqual({
      retryable: true,
      next_actions: [expect.objectContaining({ action: 'retry', method, endpoint: url })],
    });
  };

  it('answers a start 202 while the broker is down, runs it when the broker is back, and refuses commands with 503', async () => {
    const started = await call('POST', '/v1/runs', { definitionId: 'outage', idempotencyKey: 'before' }, PRODUCER);
    expect(started.status).toBe(201);
    const runId: string = started.body.run.id;
    down.bus = true;

    const accepted = await call('POST', '/v1/runs', { definitionId: 'outage', idempotencyKey: 'during' }, PRODUCER);
    expect(accepted.status).toBe(202);
    expect(accepted.retryAfter).toBeUndefined();
    const acceptedId: string = accepted.body.run.id;
    expect(accepted.body).toEqual({
      run: { id: acceptedId, status: 'accepted' },
      accepted: { runId: acceptedId, idempotencyKey: 'during', definitionId: 'outage', definitionVersion: 1 },
      agent_contract: {
        retryable: false,
        next_actions: [
          expect.objectContaining({ action: 'start_run', body: { idempotencyKey: 'during', definitionId: 'outage' } }),
          expect.objectContaining({ action: 'get_run', endpoint: `/v1/runs/${acceptedId}` }),
        ],
      },
    });
    // Without a key, the answer names the one generated for it, so the caller can follow the start.
    const keyless = await call('POST', '/v1/runs', { definitionId: 'outage' }, PRODUCER);
    expect(keyless.status).toBe(202);
    expect(keyless.body.accepted.idempotencyKey).toMatch(/^api:/);

    const url = `/v1/runs/${runId}/actions/pause`;
    expectUnavailable(await call('POST', url, { reason: 'look' }), 'BUS.UNAVAILABLE', 'POST', url);

    down.bus = false;
    let again: Awaited<ReturnType<typeof call>> | undefined;
    for (let i = 0; i < 100 && again?.status !== 200; i++) {
      again = await call('POST', '/v1/runs', { definitionId: 'outage', idempotencyKey: 'during' }, PRODUCER);
      if (again.status === 202) await new Promise((r) => setTimeout(r, 50));
    }
    expect(again).toMatchObject({ status: 200, body: { run: { id: acceptedId, status: 'running' } } });
  });

  it('answers 503 STORE.UNAVAILABLE, with Retry-After, on every route that needs the store while it is away', async () => {
    const started = await call('POST', '/v1/runs', { definitionId: 'outage', idempotencyKey: 'k' }, PRODUCER);
    const runId: string = started.body.run.id;
    down.store = true;
    const routes: ['GET' | 'POST', string, Json?][] = [
      ['POST', '/v1/runs', { definitionId: 'outage', idempotencyKey: 'new' }],
      ['GET', `/v1/runs/${runId}`],
      ['GET', `/v1/runs/${runId}/events`],
      ['POST', `/v1/runs/${runId}/actions/pause`, { reason: 'look' }],
    ];
    for (const [method, url, body] of routes)
      expectUnavailable(await call(method, url, body), 'STORE.UNAVAILABLE', method, url);
    down.store = false;
    expect((await call('GET', `/v1/runs/${runId}`)).status).toBe(200);
  });
});
