import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createInMemoryBus } from '@orchestron/bus';
import { createInMemoryEventStore } from '@orchestron/event-store';
import { Engine } from '@orchestron/runtime';
import { createHttpApp } from './app.ts';
import type { HttpApp } from './app.ts';

const AUDITOR = 'auditor-key-0123456789';
const KEYS = [
  { key: 'admin-key-0123456789', role: 'admin', name: 'root' },
  { key: AUDITOR, role: 'auditor', name: 'al', tenant: 'acme' },
] as const;
/** A POST that only checks what it is sent and changes nothing: any key may call it. */
// /mcp carries JSON-RPC: each tool is refused as its route is (mcp.spec.ts has the auditor approving, refused 403).
const READ_ONLY_POSTS = new Set(['/v1/definitions/validate', '/mcp']);

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The auditor role reads; it never changes anything. Every POST route, found in the OpenAPI document, says so. */
describe('an auditor key', () => {
  let engine: Engine;
  let app: HttpApp;

  beforeAll(async () => {
    engine = new Engine({ store: createInMemoryEventStore(), bus: createInMemoryBus() });
    await engine.start();
    app = await createHttpApp({ runs: engine, keys: KEYS });
  });

  afterAll(async () => {
    await app.close();
    await engine.stop();
  });

  const posts = (): string[] =>
    Object.entries(app.openapi.paths)
      .filter(([path, item]) => item.post !== undefined && !READ_ONLY_POSTS.has(path))
      .map(([path]) => path);

  it('is refused 403 by every POST route that changes something', async () => {
    expect(posts().length).toBeGreaterThanOrEqual(5);
    for (const path of posts()) {
      const url = path.replace(/\{[^}]+\}/g, 'x');
      const res = await app.nest.inject({
        method: 'POST',
        url,
        payload: {},
        headers: { authorization: `Bearer ${AUDITOR}` },
      });
      expect([path, res.statusCode, (res.json() as Json).error?.code]).toEqual([path, 403, 'AUTH.FORBIDDEN']);
    }
  });

  it('is not among the roles the discovery document gives any POST that changes something', async () => {
    const res = await app.nest.inject({ method: 'GET', url: '/.well-known/agent.json' });
    const endpoints = (res.json() as Json).endpoints as { method: string; path: string; roles: string[] }[];
    const writes = endpoints.filter((e) => e.method === 'POST' && !READ_ONLY_POSTS.has(e.path));
    expect(writes.length).toBeGreaterThanOrEqual(5);
    expect(writes.filter((e) => e.roles.includes('auditor'))).toEqual([]);
  });
});
