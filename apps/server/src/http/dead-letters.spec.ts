import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { createInMemoryBus, Topics } from '@orchestron/bus';
import type { DeliveredMessage, MessageBus } from '@orchestron/bus';
import { createInMemoryEventStore } from '@orchestron/event-store';
import { createPolicyGovernance, Engine } from '@orchestron/runtime';
import { eventually } from '@orchestron/runtime/testing';
import { DeadLetterLog } from '../dead-letters.ts';
import { createHttpApp } from './app.ts';
import type { HttpApp } from './app.ts';

const KEYS = [
  { key: 'admin-key-0123456789', role: 'admin', name: 'root' },
  { key: 'acme-operator-0123456789', role: 'operator', name: 'ann', tenant: 'acme' },
  { key: 'acme-auditor-0123456789', role: 'auditor', name: 'al', tenant: 'acme' },
  { key: 'acme-producer-0123456789', role: 'producer', name: 'shop', tenant: 'acme' },
  { key: 'globex-operator-0123456789', role: 'operator', name: 'gus', tenant: 'globex' },
] as const;
const ADMIN = 'admin-key-0123456789';
const ACME_OPS = 'acme-operator-0123456789';
const ACME_AUDITOR = 'acme-auditor-0123456789';
const ACME_PRODUCER = 'acme-producer-0123456789';
const GLOBEX_OPS = 'globex-operator-0123456789';
const SOURCE = 'test.dlq-source';
const QUIET = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('GET /v1/dead-letters and POST /v1/dead-letters/replay', () => {
  let bus: MessageBus;
  let engine: Engine;
  let letters: DeadLetterLog;
  let app: HttpApp;
  const handled: DeliveredMessage[] = [];
  let failing = true;
  let acmeRun = '';
  let globexRun = '';

  const call = async (method: 'GET' | 'POST', url: string, key: string, body?: unknown) => {
    const res = await app.nest.inject({
      method,
      url,
      headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { payload: JSON.stringify(body) } : {}),
    });
    return { status: res.statusCode, body: res.json() as Json };
  };
  const startIn = async (key: string): Promise<string> => {
    const definition = { id: 'waits', version: 1, steps: { a: { worker: 'nobody-serves-this' } } };
    expect((await call('POST', '/v1/definitions', key, definition)).status).toBe(201);
    const started = await call('POST', '/v1/runs', key, { definitionId: 'waits', input: {} });
    expect(started.status).toBe(201);
    return started.body.run.id as string;
  };
  const positions = (body: Json): string[] => (body.deadLetters as { position: string }[]).map((l) => l.position);
  const letterOf = async (key: string) =>
    (await call('GET', '/v1/dead-letters', ADMIN)).body.deadLetters.find((l: Json) => l.key === key) as Json;

  beforeEach(async () => {
    bus = createInMemoryBus();
    engine = new Engine({ store: createInMemoryEventStore(), bus, governance: createPolicyGovernance([]) });
    await engine.start();
    letters = new DeadLetterLog(bus, QUIET);
    letters.start();
    await letters.ready();
    app = await createHttpApp({ runs: engine, keys: KEYS, deadLetters: letters, logger: QUIET });
    handled.length = 0;
    failing = true;
    await bus.subscribe({ topics: [SOURCE], group: 'picky' }, async (message) => {
      if (failing) throw new Error(`cannot take ${message.key}`);
      handled.push(message);
    });
    acmeRun = await startIn(ACME_OPS);
    globexRun = await startIn(GLOBEX_OPS);
    await bus.publish(SOURCE, [
      { key: acmeRun, value: { n: 1 }, headers: { trace: 'acme-1' } },
      { key: globexRun, value: { n: 2 } },
      { key: 'no-run-has-this-key', value: { n: 3 } },
    ]);
    await eventually('three dead letters', async () => (letters.list().length === 3 ? true : undefined));
  });

  afterEach(async () => {
    await app.close();
    await letters.close();
    await engine.stop();
  });

  it("lists to an operator or auditor only its tenant's runs' letters, with the reason; an admin sees every one", async () => {
    for (const key of [ACME_OPS, ACME_AUDITOR]) {
      const { status, body } = await call('GET', '/v1/dead-letters', key);
      expect(status).toBe(200);
      expect(body.total).toBe(1);
      expect(body.deadLetters).toEqual([
        expect.objectContaining({
          key: acmeRun,
          runId: acmeRun,
          topic: SOURCE,
          reason: `Error: cannot take ${acmeRun}`,
          original: { n: 1 },
          replayable: true,
          replays: [],
        }),
      ]);
    }
    const globex = (await call('GET', '/v1/dead-letters', GLOBEX_OPS)).body.deadLetters as Json[];
    expect(globex.map((l) => l.key)).toEqual([globexRun]);
    const all = await call('GET', '/v1/dead-letters', ADMIN);
    expect(all.body.deadLetters.map((l: Json) => [l.key, l.runId])).toEqual([
      [acmeRun, acmeRun],
      [globexRun, globexRun],
      ['no-run-has-this-key', null],
    ]);
    expect((await call('GET', `/v1/dead-letters?topic=elsewhere`, ADMIN)).body.deadLetters).toEqual([]);
    expect(positions((await call('GET', '/v1/dead-letters?limit=1', ADMIN)).body)).toHaveLength(1);
  });

  it('replays for an operator: the original goes back to its topic with its key and headers, and the letter says so', async () => {
    failing = false;
    const position = (await letterOf(acmeRun)).position as string;
    const replayed = await call('POST', '/v1/dead-letters/replay', ACME_OPS, {
      position,
      reason: 'fixed the consumer',
    });
    expect(replayed.status).toBe(200);
    expect(replayed.body.deadLetter.replays).toEqual([
      expect.objectContaining({ actor: 'operator:ann', reason: 'fixed the consumer' }),
    ]);
    await eventually('the replayed message', async () => (handled.length === 1 ? true : undefined));
    expect(handled[0]).toMatchObject({ key: acmeRun, value: { n: 1 }, headers: { trace: 'acme-1' } });
    const listed = (await call('GET', '/v1/dead-letters', ACME_OPS)).body.deadLetters as Json[];
    expect(listed[0]?.replays).toHaveLength(1);
  });

  it("refuses an auditor, a producer, another tenant's operator, and a position that is not listed", async () => {
    const position = (await letterOf(acmeRun)).position as string;
    const auditor = await call('POST', '/v1/dead-letters/replay', ACME_AUDITOR, { position });
    expect(auditor.status).toBe(403);
    expect(auditor.body.error.code).toBe('AUTH.FORBIDDEN');
    expect((await call('GET', '/v1/dead-letters', ACME_PRODUCER)).status).toBe(403);
    expect((await call('POST', '/v1/dead-letters/replay', ACME_PRODUCER, { position })).status).toBe(403);
    const stranger = await call('POST', '/v1/dead-letters/replay', GLOBEX_OPS, { position, reason: 'mine now' });
    expect(stranger.status).toBe(404);
    expect(stranger.body.error.code).toBe('DLQ.NOT_FOUND');
    const orphan = (await letterOf('no-run-has-this-key')).position as string;
    expect((await call('POST', '/v1/dead-letters/replay', ACME_OPS, { position: orphan })).body.error.code).toBe(
      'DLQ.NOT_FOUND',
    );
    expect((await call('POST', '/v1/dead-letters/replay', ADMIN, { position: '7:99999' })).status).toBe(404);
    const bad = await call('POST', '/v1/dead-letters/replay', ADMIN, { position: 'all' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details).toEqual({ field: 'position' });
    expect(handled).toEqual([]);
    expect((await letterOf(acmeRun)).replays).toEqual([]);
  });

  it('refuses to replay a letter whose original is not JSON or was not kept (Kafka letters), naming why', async () => {
    const kafkaShaped = (original: string | null) => ({
      reason: 'WireError: not JSON',
      topic: SOURCE,
      partition: 0,
      offset: 5,
      group: 'picky',
      key: acmeRun,
      headers: {},
      original,
      originalEncoding: 'base64',
    });
    await bus.publish(Topics.deadLetters, [
      { key: acmeRun, value: kafkaShaped(Buffer.from('{not json').toString('base64')) },
      { key: acmeRun, value: kafkaShaped(null) },
      { key: acmeRun, value: kafkaShaped(Buffer.from('{"n":4}').toString('base64')) },
    ]);
    await eventually('six dead letters', async () => (letters.list().length === 6 ? true : undefined));
    const [binary, lost, json] = letters.list().slice(3);
    const refused = await call('POST', '/v1/dead-letters/replay', ACME_OPS, { position: binary?.position });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({
      code: 'DLQ.NOT_REPLAYABLE',
      message: expect.stringContaining('not JSON'),
    });
    const tooLarge = await call('POST', '/v1/dead-letters/replay', ACME_OPS, { position: lost?.position });
    expect(tooLarge.body.error.message).toContain('too large');
    failing = false;
    expect((await call('POST', '/v1/dead-letters/replay', ACME_OPS, { position: json?.position })).status).toBe(200);
    await eventually('the decoded original', async () => (handled.length === 1 ? true : undefined));
    expect(handled[0]?.value).toEqual({ n: 4 });
  });

  it('answers DLQ.UNAVAILABLE on a server that follows no dead-letter topic', async () => {
    const bare = await createHttpApp({ runs: engine, keys: KEYS, logger: QUIET });
    try {
      const res = await bare.nest.inject({
        method: 'GET',
        url: '/v1/dead-letters',
        headers: { authorization: `Bearer ${ADMIN}` },
      });
      expect(res.statusCode).toBe(409);
      expect((res.json() as Json).error.code).toBe('DLQ.UNAVAILABLE');
    } finally {
      await bare.close();
    }
  });
});
