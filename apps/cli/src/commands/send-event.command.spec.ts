import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInMemoryBus } from '@orchestron/bus';
import { createInMemoryEventStore } from '@orchestron/event-store';
import { Engine } from '@orchestron/runtime';
import { createHttpApp } from '@orchestron/server';
import type { HttpApp } from '@orchestron/server';
import { runCli } from '../cli.ts';
import type { CliDeps } from '../cli.context.ts';

/** `orchestron send-event` against the real HTTP edge in this process (requests go through Fastify's inject). */
const KEYS = [
  { key: 'producer-key-0123456789', role: 'producer', name: 'pat', tenant: 'acme' },
  { key: 'auditor-key-0123456789', role: 'auditor', name: 'aud', tenant: 'acme' },
] as const;
const contract = {
  id: 'contract',
  version: 1,
  steps: { signed: { type: 'event', event: 'contract.signed', match: '${{ input.contractId }}' } },
};

describe('orchestron send-event', () => {
  let engine: Engine;
  let app: HttpApp;
  const cwd = mkdtempSync(join(tmpdir(), 'send-event-'));

  const cli = async (args: string[], key: string = KEYS[0].key) => {
    const out: string[] = [];
    const err: string[] = [];
    const deps: CliDeps = {
      io: { out: (l) => out.push(l), err: (l) => err.push(l), colour: false },
      env: { ORCHESTRON_API_KEY: key, ORCHESTRON_URL: 'http://orchestron.test' },
      cwd,
      now: () => Date.now(),
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      fetch: async (url, init) => {
        const res = await app.nest.inject({
          method: (init.method ?? 'GET') as 'POST',
          url: new URL(url).pathname,
          headers: init.headers as Record<string, string>,
          ...(init.body !== undefined ? { payload: String(init.body) } : {}),
        });
        return new Response(res.body, { status: res.statusCode });
      },
    };
    const code = await runCli(args, deps);
    return { code, out, err };
  };

  beforeAll(async () => {
    engine = new Engine({ store: createInMemoryEventStore(), bus: createInMemoryBus() });
    await engine.start();
    await engine.definitions.register(contract, 'test', 'acme');
    app = await createHttpApp({ runs: engine, keys: KEYS });
  });

  afterAll(async () => {
    await engine.stop();
    await app.close();
  });

  it('delivers to the waiting run, says so, then calls the same id a duplicate', async () => {
    const { run } = (await engine.startRun({
      definitionId: 'contract',
      input: { contractId: 'C-1' },
      actor: 'test',
      tenant: 'acme',
    })) as { run: { runId: string } };
    for (let i = 0; i < 100 && (await engine.history(run.runId)).length < 2; i++)
      await new Promise((resolve) => setTimeout(resolve, 10));
    await new Promise((resolve) => setTimeout(resolve, 50));
    writeFileSync(join(cwd, 'payload.json'), '{"signedBy":"ann"}');
    const sent = await cli([
      'send-event',
      'contract.signed',
      '--key',
      'C-1',
      '--id',
      'sig-1',
      '--payload',
      '@payload.json',
    ]);
    expect(sent).toEqual({
      code: 0,
      out: [`event contract.signed (key "C-1", id "sig-1"): delivered to ${run.runId} (step signed)`],
      err: [],
    });
    expect((await engine.getRun(run.runId))?.steps.signed).toMatchObject({
      status: 'completed',
      output: { signedBy: 'ann' },
    });
    const again = await cli(['send-event', 'contract.signed', '--key', 'C-1', '--id', 'sig-1', '--json']);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.out[0] as string)).toEqual({
      status: 'duplicate',
      eventId: 'sig-1',
      deliveredTo: [{ runId: run.runId, stepId: 'signed' }],
    });
  });

  it('buffers an event no step waits for yet, making up an id when none is given', async () => {
    const sent = await cli(['send-event', 'contract.signed', '--key', 'C-2', '--payload', '{"n":1}']);
    expect(sent.code).toBe(0);
    expect(sent.out[0]).toMatch(
      /^event contract\.signed \(key "C-2", id "[0-9a-f-]{36}"\): no step waits for it yet; buffered until \d{4}-/,
    );
  });

  it('exits non-zero with the server refusal: a bad payload, a role that may not send, a missing --key', async () => {
    const badJson = await cli(['send-event', 'contract.signed', '--key', 'C-3', '--payload', '{nope']);
    expect(badJson.code).not.toBe(0);
    expect(badJson.err.join('\n')).toMatch(/--payload/);
    const auditor = await cli(['send-event', 'contract.signed', '--key', 'C-3'], KEYS[1].key);
    expect(auditor.code).not.toBe(0);
    expect(auditor.err.join('\n')).toMatch(/AUTH\.FORBIDDEN|may not/);
    const noKey = await cli(['send-event', 'contract.signed']);
    expect(noKey.code).not.toBe(0);
    expect(noKey.err.join('\n')).toMatch(/--key/);
  });
});
