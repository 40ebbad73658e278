import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { createInMemoryBus } from '@orchestron/bus';
import { parseDefinitionText } from '@orchestron/definitions';
import { createInMemoryEventStore } from '@orchestron/event-store';
import { createOnboardingWorkers } from '@orchestron/example-workers';
import { Engine } from '@orchestron/runtime';
import type { Worker } from '@orchestron/worker-sdk';
import { createHttpApp } from './app.ts';
import type { HttpApp } from './app.ts';

const ADMIN = 'admin-key-0123456789';
const ACME = 'acme-operator-key-0123456789';
const ACME_PRODUCER = 'acme-producer-key-0123456789';
const KEYS = [
  { key: ADMIN, role: 'admin', name: 'root' },
  { key: ACME, role: 'operator', name: 'ann', tenant: 'acme', groups: ['finance'] },
  { key: ACME_PRODUCER, role: 'producer', name: 'shop', tenant: 'acme' },
] as const;
const onboarding = parseDefinitionText(
  readFileSync(new URL('../../../../examples/employee-onboarding.yaml', import.meta.url), 'utf8'),
);

interface Sent {
  readonly id: string;
  readonly data: { position: number; runId: string; tenant: string; type: string; data?: unknown };
}

/** An open SSE response, read frame by frame. */
interface Stream {
  readonly status: number;
  readonly events: Sent[];
  until(count: number, runId?: string): Promise<Sent[]>;
  close(): void;
}

/** GET /v1/events/stream over a real socket, as a browser's EventSource would. */
describe('GET /v1/events/stream', () => {
  let engine: Engine;
  let app: HttpApp;
  let url: string;
  let workers: Worker[];

  beforeAll(async () => {
    const bus = createInMemoryBus();
    engine = new Engine({ store: createInMemoryEventStore(), bus });
    workers = createOnboardingWorkers({ bus, workMs: 0 });
    for (const w of workers) await w.start();
    await engine.start();
    await engine.definitions.register(onboarding, 'test');
    await engine.definitions.register(onboarding, 'test', 'acme');
    app = await createHttpApp({ runs: engine, keys: KEYS, streams: { perKey: 2 } });
    url = await app.listen('127.0.0.1', 0);
  });

  afterAll(async () => {
    for (const w of workers) await w.stop();
    await engine.stop();
    await app.close();
  });

  const open = async (key: string | null, query = '', headers: Record<string, string> = {}): Promise<Stream> => {
    const abort = new AbortController();
    const response = await fetch(`${url}/v1/events/stream${query}`, {
      headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers },
      signal: abort.signal,
    });
    const events: Sent[] = [];
    let wake = (): void => undefined;
    if (response.headers.get('content-type')?.startsWith('text/event-stream'))
      void read(response, events, () => wake());
    return {
      status: response.status,
      events,
      async until(count, runId) {
        const mine = (): Sent[] => events.filter((e) => runId === undefined || e.data.runId === runId);
        const deadline = Date.now() + 5_000;
        while (mine().length < count && Date.now() < deadline)
          await new Promise<void>((resolve) => {
            wake = resolve;
            setTimeout(resolve, 100);
          });
        return mine();
      },
      close: () => abort.abort(),
    };
  };

  const start = async (key: string): Promise<string> => {
    const response = await fetch(`${url}/v1/runs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ definitionId: 'employee-onboarding', input: { email: 'a@b.c' } }),
    });
    return ((await response.json()) as { run: { id: string } }).run.id;
  };

  it('needs a key, and says whose it is at /v1/whoami', async () => {
    const refused = await open(null);
    expect(refused.status).toBe(401);
    const who = await fetch(`${url}/v1/whoami`, { headers: { authorization: `Bearer ${ACME}` } });
    expect(((await who.json()) as { key: unknown }).key).toEqual({
      id: 'cfg-ann',
      role: 'operator',
      tenant: 'acme',
      subject: 'ann',
      groups: ['finance'],
    });
  });

  it("sends a tenant's run events live to its keys (their data to the roles that read histories), and nothing of another tenant's", async () => {
    const acme = await open(ACME);
    const admin = await open(ADMIN);
    const producer = await open(ACME_PRODUCER);
    expect(acme.status).toBe(200);
    const theirs = await start(ADMIN);
    const ours = await start(ACME_PRODUCER);
    const seen = await acme.until(3, ours);
    expect(seen[0]?.data).toMatchObject({ runId: ours, tenant: 'acme', type: 'RunStarted' });
    expect(seen[0]?.data.data).toBeDefined();
    const bare = await producer.until(1, ours);
    producer.close();
    expect(bare[0]?.data).toMatchObject({ runId: ours, type: 'RunStarted' });
    expect(bare[0]?.data.data).toBeUndefined();
    expect((await admin.until(1, theirs)).length).toBeGreaterThan(0);
    expect(acme.events.filter((e) => e.data.runId === theirs)).toEqual([]);
    acme.close();
    admin.close();
    const elsewhere = await open(ACME, `?run=${theirs}`);
    expect(elsewhere.status).toBe(404);
    const forbidden = await open(ACME, '?tenant=default');
    expect(forbidden.status).toBe(403);
  });

  it('resumes past Last-Event-ID, and follows one run with ?run=', async () => {
    const first = await open(ADMIN);
    const runId = await start(ADMIN);
    const before = await first.until(4, runId);
    first.close();
    const resumed = await open(ADMIN, `?run=${runId}`, { 'last-event-id': before[1]?.id as string });
    const again = await resumed.until(2, runId);
    resumed.close();
    expect(again[0]?.data.position).toBe(before[2]?.data.position);
    expect(again[1]?.data.position).toBe(before[3]?.data.position);
    expect(resumed.events.every((e) => e.data.runId === runId)).toBe(true);
    const bad = await open(ADMIN, '', { 'last-event-id': 'yesterday' });
    expect(bad.status).toBe(400);
  });

  it('holds at most its cap of open streams per key: one more is 429 STREAM.TOO_MANY, until one closes', async () => {
    const one = await open(ACME_PRODUCER);
    const two = await open(ACME_PRODUCER);
    const refused = await fetch(`${url}/v1/events/stream`, { headers: { authorization: `Bearer ${ACME_PRODUCER}` } });
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('STREAM.TOO_MANY');
    const other = await open(ACME);
    expect(other.status).toBe(200);
    other.close();
    one.close();
    let three: Stream | null = null;
    for (let i = 0; i < 50 && three?.status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 20));
      three = await open(ACME_PRODUCER);
      if (three.status !== 200) three.close();
    }
    expect(three?.status).toBe(200);
    three?.close();
    two.close();
  });
});

async function read(response: Response, events: Sent[], wake: () => void): Promise<void> {
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const id = /^id: (.*)$/m.exec(frame)?.[1];
        const data = /^data: (.*)$/m.exec(frame)?.[1];
        if (id !== undefined && data !== undefined) events.push({ id, data: JSON.parse(data) as Sent['data'] });
      }
      wake();
    }
  } catch {
    // aborted by close()
  }
}
