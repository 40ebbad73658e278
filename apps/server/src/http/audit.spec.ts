import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { AuditNotary, AuditReader } from '@orchestron/audit';
import { createInMemoryBus } from '@orchestron/bus';
import { parseDefinitionText } from '@orchestron/definitions';
import { createInMemoryEventStore } from '@orchestron/event-store';
import { createOnboardingWorkers } from '@orchestron/example-workers';
import { Engine } from '@orchestron/runtime';
import type { Worker } from '@orchestron/worker-sdk';
import { createHttpApp } from './app.ts';
import type { HttpApp } from './app.ts';

/** The audit routes as an attacker tries them: another tenant's run and events, the whole log, hostile ids. */
const key = (name: string): string => `${name}-key-0123456789`;
const KEYS = [
  { key: key('root'), role: 'admin', name: 'root' },
  { key: key('alice'), role: 'producer', name: 'alice', tenant: 'acme' },
  { key: key('audrey'), role: 'auditor', name: 'audrey', tenant: 'acme' },
  { key: key('bob'), role: 'producer', name: 'bob', tenant: 'globex' },
] as const;
const onboarding = parseDefinitionText(
  readFileSync(new URL('../../../../examples/employee-onboarding.yaml', import.meta.url), 'utf8'),
);
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('the audit routes, tried across tenants', () => {
  const store = createInMemoryEventStore();
  const { privateKey } = generateKeyPairSync('ed25519');
  const notary = new AuditNotary({ store, signingKey: privateKey, signEveryMs: 0 });
  let engine: Engine;
  let app: HttpApp;
  let workers: Worker[];
  let acmeRun = '';
  let globexRun = '';

  const call = async (url: string, who: string) => {
    const res = await app.nest.inject({ method: 'GET', url, headers: { authorization: `Bearer ${key(who)}` } });
    return {
      status: res.statusCode,
      text: res.body,
      body: String(res.headers['content-type'] ?? '').startsWith('application/json') ? (res.json() as Json) : {},
    };
  };
  const start = async (who: string): Promise<string> => {
    const res = await app.nest.inject({
      method: 'POST',
      url: '/v1/runs',
      payload: { definitionId: 'employee-onboarding', input: { email: `${who}@b.c` } },
      headers: { authorization: `Bearer ${key(who)}` },
    });
    const id = (res.json() as Json).run.id as string;
    await call(`/v1/runs/${id}/wait?timeoutMs=20000`, who);
    return id;
  };

  beforeAll(async () => {
    const bus = createInMemoryBus();
    engine = new Engine({ store, bus });
    workers = createOnboardingWorkers({ bus, workMs: 5 });
    for (const w of workers) await w.start();
    await engine.start();
    for (const tenant of ['acme', 'globex']) await engine.definitions.register(onboarding, 'test', tenant);
    const audit = { reader: new AuditReader(store), publicKey: createPublicKey(privateKey), close: async () => {} };
    app = await createHttpApp({ runs: engine, keys: KEYS, audit });
    acmeRun = await start('alice');
    globexRun = await start('bob');
    await notary.catchUp();
  });
  afterAll(async () => {
    for (const w of workers) await w.stop();
    await engine.stop();
    await app.close();
  });

  it("exports a tenant's own run to its auditor, and another tenant's run as one that does not exist", async () => {
    const own = await call(`/v1/audit/export?run=${acmeRun}`, 'audrey');
    expect(own.status).toBe(200);
    expect(own.text).toContain(acmeRun);
    const other = await call(`/v1/audit/export?run=${globexRun}`, 'audrey');
    expect({ status: other.status, code: other.body.error?.code }).toEqual({ status: 404, code: 'RUN.NOT_FOUND' });
    expect(other.text).not.toContain('bob@b.c');
  });

  it('keeps the whole log, which spans tenants, to admin keys', async () => {
    const refused = await call('/v1/audit/export', 'audrey');
    expect({ status: refused.status, code: refused.body.error?.code }).toEqual({ status: 403, code: 'AUTH.FORBIDDEN' });
    const whole = await call('/v1/audit/export', 'root');
    expect(whole.status).toBe(200);
    expect(whole.text).toContain(globexRun);
    expect((await call('/v1/audit/checkpoint', 'alice')).status).toBe(403);
  });

  it("proves a tenant's own event, and answers another tenant's event and a hostile id as not in the log", async () => {
    const events = (await call(`/v1/runs/${globexRun}/events`, 'root')).body.events as Json[];
    const foreign = await call(
      `/v1/audit/proofs/${String((await store.readStream(`run-${globexRun}`))[0]?.id)}`,
      'audrey',
    );
    expect(events.length).toBeGreaterThan(0);
    expect({ status: foreign.status, code: foreign.body.error?.code }).toEqual({
      status: 404,
      code: 'EVENT.NOT_FOUND',
    });
    const ownId = (await store.readStream(`run-${acmeRun}`))[0]?.id as string;
    const own = await call(`/v1/audit/proofs/${ownId}`, 'audrey');
    expect(own.status).toBe(200);
    expect(own.body.proof.event.id).toBe(ownId);
    for (const hostile of ['..%2F..%2Fetc', '%00', 'x'.repeat(300)]) {
      const res = await call(`/v1/audit/proofs/${hostile}`, 'audrey');
      expect([400, 404]).toContain(res.status);
    }
    const bad = await call(`/v1/audit/export?run=${'x'.repeat(201)}`, 'audrey');
    expect({ status: bad.status, field: bad.body.error?.details?.field }).toEqual({ status: 400, field: 'run' });
  });

  it("verifies a tenant's own run for its auditor, the whole log for an admin only, and another tenant's run as missing", async () => {
    const own = await call(`/v1/audit/verify?run=${acmeRun}`, 'audrey');
    expect(own.status).toBe(200);
    expect(own.body.verification).toMatchObject({ ok: true, streams: 1, problem: null });
    expect(own.body.verification.events).toBeGreaterThan(3);
    expect(own.body.verification.notes.join(' ')).toContain('checked by the server with its own key');
    const other = await call(`/v1/audit/verify?run=${globexRun}`, 'audrey');
    expect({ status: other.status, code: other.body.error?.code }).toEqual({ status: 404, code: 'RUN.NOT_FOUND' });
    const whole = await call('/v1/audit/verify', 'audrey');
    expect({ status: whole.status, code: whole.body.error?.code }).toEqual({ status: 403, code: 'AUTH.FORBIDDEN' });
    expect((await call(`/v1/audit/verify?run=${acmeRun}`, 'alice')).status).toBe(403);
    const all = await call('/v1/audit/verify', 'root');
    expect(all.body.verification).toMatchObject({ ok: true, problem: null });
    expect(all.body.verification.streams).toBeGreaterThanOrEqual(2);
  });

  it('fails the verification at the first event changed in the store behind the server, naming its position', async () => {
    const victim = (await store.readStream(`run-${acmeRun}`))[2];
    const alter = <T>(events: T[]): T[] =>
      events.map((e) =>
        (e as { position: number }).position === victim?.position ? { ...e, data: { forged: true } } : e,
      );
    const tampered = new Proxy(store, {
      get(target, name) {
        if (name === 'readStream' || name === 'readAll')
          return async (...args: unknown[]) =>
            alter(await (target[name] as (...a: unknown[]) => Promise<unknown[]>).apply(target, args));
        return Reflect.get(target, name);
      },
    });
    const audit = { reader: new AuditReader(tampered), publicKey: createPublicKey(privateKey), close: async () => {} };
    const behind = await createHttpApp({ runs: engine, keys: KEYS, audit });
    try {
      for (const url of [`/v1/audit/verify?run=${acmeRun}`, '/v1/audit/verify']) {
        const res = await behind.nest.inject({
          method: 'GET',
          url,
          headers: { authorization: `Bearer ${key('root')}` },
        });
        const { verification } = res.json() as Json;
        expect(verification.ok).toBe(false);
        expect(verification.problem).toMatchObject({ position: victim?.position });
        expect(verification.problem.message).toContain('does not match its recorded hash: it was altered');
      }
    } finally {
      await behind.close();
    }
  });
});
