import { createInMemoryBus, Topics } from '@orchestron/bus';
import type { DeliveredMessage, MessageBus } from '@orchestron/bus';
import { example, onboarding, vendorPayment } from './examples.ts';
import type { Json } from './examples.ts';
import { createInMemoryEventStore } from '@orchestron/event-store';
import type { EventStore } from '@orchestron/event-store';
import { createExampleWorkers } from '@orchestron/example-workers';
import { createPolicyGovernance, Engine } from '@orchestron/runtime';
import { eventually } from '@orchestron/runtime/testing';
import type { Worker } from '@orchestron/worker-sdk';
import { createHttpApp } from '@orchestron/server';
import type { HttpApp } from '@orchestron/server';

/*
 * One embedded server for the hostile suite: the engine on the in-memory store and bus, the example workers, the
 * example policies, and keys for two tenants. Requests go through Fastify's inject (the full HTTP stack, no socket).
 */

export { vendorPayment };
export type { Json };

export const token = (name: string): string => `${name}-key-0123456789abcdef`;
const KEYS = [
  { key: token('admin'), role: 'admin', name: 'root' },
  { key: token('ops'), role: 'operator', name: 'ops' },
  { key: token('producer'), role: 'producer', name: 'shop' },
  { key: token('alice'), role: 'producer', name: 'alice', tenant: 'acme' },
  { key: token('bob'), role: 'producer', name: 'bob', tenant: 'globex' },
] as const;

export interface Reply {
  readonly status: number;
  readonly size: number;
  readonly body: Json;
}

export interface HostileServer {
  readonly engine: Engine;
  readonly store: EventStore;
  readonly bus: MessageBus;
  readonly app: HttpApp;
  /** Everything dead-lettered so far, in order. */
  readonly deadLetters: DeliveredMessage[];
  /** Sends `text` as the body, byte for byte (no client re-encodes it). */
  send(method: 'GET' | 'POST', url: string, as: string, text?: string): Promise<Reply>;
  call(method: 'GET' | 'POST', url: string, as: string, body?: unknown): Promise<Reply>;
  /** A run that completed before the storm, and its history then: it must be the same after. */
  witness(): Promise<{ id: string; history: string }>;
  close(): Promise<void>;
}

export async function startHostileServer(): Promise<HostileServer> {
  const store = createInMemoryEventStore();
  const bus = createInMemoryBus();
  const policies = ['onboarding.cedar', 'payments.cedar', 'patient-records.cedar'].map((name) => ({
    name,
    text: example(`policies/${name}`),
  }));
  const engine = new Engine({ store, bus, governance: createPolicyGovernance(policies) });
  const workers: Worker[] = createExampleWorkers({ bus, workMs: 0 });
  for (const worker of workers) await worker.start();
  await engine.start();
  for (const tenant of ['default', 'acme', 'globex']) {
    await engine.definitions.register(vendorPayment, 'system:test', tenant);
    await engine.definitions.register(onboarding, 'system:test', tenant);
  }
  const deadLetters: DeliveredMessage[] = [];
  await bus.subscribe({ topics: [Topics.deadLetters], group: 'hostile-dlq' }, async (message) => {
    deadLetters.push(message);
  });
  const app = await createHttpApp({ runs: engine, keys: KEYS, requestTimeoutMs: 1_000 });
  const send = async (method: 'GET' | 'POST', url: string, as: string, text?: string): Promise<Reply> => {
    const headers = {
      authorization: `Bearer ${token(as)}`,
      ...(text !== undefined ? { 'content-type': 'application/json' } : {}),
    };
    const res = await app.nest.inject({ method, url, headers, ...(text !== undefined ? { payload: text } : {}) });
    return { status: res.statusCode, size: res.body.length, body: res.body === '' ? {} : (res.json() as Json) };
  };
  const call = (method: 'GET' | 'POST', url: string, as: string, body?: unknown): Promise<Reply> =>
    send(method, url, as, body === undefined ? undefined : JSON.stringify(body));
  return {
    engine,
    store,
    bus,
    app,
    deadLetters,
    send,
    call,
    async witness() {
      const started = await call('POST', '/v1/runs', 'producer', {
        definitionId: 'vendor-payment',
        input: { vendor: 'acme', amount: 10 },
        idempotencyKey: 'witness',
      });
      const id = started.body.run.id as string;
      await eventually(
        'the witness run to complete',
        async () => (await call('GET', `/v1/runs/${id}`, 'producer')).body.run?.status === 'completed',
      );
      return { id, history: JSON.stringify((await call('GET', `/v1/runs/${id}/events`, 'admin')).body.events) };
    },
    async close() {
      for (const worker of workers) await worker.stop();
      await engine.stop();
      await app.close();
      await bus.close();
    },
  };
}

/** A 4xx whose error names what was wrong: a field, a limit, a path, or a quoted value in its message. */
export function namesTheProblem(reply: Reply): boolean {
  const error = reply.body.error as { code?: unknown; message?: unknown; details?: Json } | undefined;
  if (typeof error?.code !== 'string' || typeof error.message !== 'string') return false;
  const details = error.details ?? {};
  if (typeof details.field === 'string' || typeof details.limit === 'string') return true;
  if (Array.isArray(details.issues)) return details.issues.length > 0;
  // A state conflict (409) names the run, step or status it is about.
  if (Object.keys(details).length > 0) return true;
  return /"[^"]+"|\$[.[]|\/\w|\b\d+ (levels|bytes|characters)\b/.test(error.message);
}
