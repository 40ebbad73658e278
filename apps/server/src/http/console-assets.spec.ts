import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInMemoryBus } from '@orchestron/bus';
import { createInMemoryEventStore } from '@orchestron/event-store';
import { Engine } from '@orchestron/runtime';
import { createHttpApp } from './app.ts';
import type { HttpApp } from './app.ts';

const KEYS = [{ key: 'admin-key-0123456789', role: 'admin', name: 'root' }] as const;

/** The built console at /console: its files, the SPA fallback, and `/` sent there; no key needed to load it. */
describe('the console assets', () => {
  let engine: Engine;
  let app: HttpApp;
  let unbuilt: HttpApp;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orchestron-console-dist-'));
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>console</title>');
    writeFileSync(join(dir, 'assets/app-1.js'), 'console.log(1)');
    writeFileSync(join(dir, '..', 'secret.txt'), 'not for the web');
    engine = new Engine({ store: createInMemoryEventStore(), bus: createInMemoryBus() });
    await engine.start();
    app = await createHttpApp({ runs: engine, keys: KEYS, consoleDir: dir });
    unbuilt = await createHttpApp({ runs: engine, keys: KEYS, consoleDir: null });
  });

  afterAll(async () => {
    await app.close();
    await unbuilt.close();
    await engine.stop();
  });

  const get = (url: string, on = app) => on.nest.inject({ method: 'GET', url });

  it('sends / and /console to /console/', async () => {
    for (const url of ['/', '/console']) {
      const res = await get(url);
      expect([res.statusCode, res.headers.location]).toEqual([302, '/console/']);
    }
  });

  it('serves index.html for the console and any of its routes, and its assets as they are', async () => {
    for (const url of ['/console/', '/console/runs/r-1', '/console/definitions?id=x']) {
      const res = await get(url);
      expect([url, res.statusCode, res.headers['content-type'], res.headers['cache-control']]).toEqual([
        url,
        200,
        'text/html; charset=utf-8',
        'no-cache',
      ]);
      expect(res.body).toContain('<title>console</title>');
    }
    const asset = await get('/console/assets/app-1.js');
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(asset.headers['cache-control']).toContain('immutable');
    expect(asset.body).toBe('console.log(1)');
  });

  it('serves nothing outside its directory', async () => {
    for (const url of [
      '/console/../secret.txt',
      '/console/%2e%2e/secret.txt',
      '/console/assets/%2e%2e%2f..%2fsecret.txt',
    ])
      expect((await get(url)).body).not.toContain('not for the web');
  });

  it('says how to build it when it is not built', async () => {
    const res = await get('/console/', unbuilt);
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({
      error: { code: 'ROUTE.NOT_FOUND', message: expect.stringContaining('console:build') },
    });
  });
});
