import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInMemoryBus } from '@orchestron/bus';
import type { EventStore } from '@orchestron/event-store';
import { createSqliteEventStore } from '@orchestron/store-sqlite';
import { createWorker } from '@orchestron/worker-sdk';
import { Engine } from './engine.ts';
import { rebuildReadModels, saveRebuiltModels } from './read-models-rebuild.ts';
import { verifyReadModels } from './read-models-verify.ts';
import type { ReadModelsVerification } from './read-models-verify.ts';

const RUNS = 1_000;
const definition = {
  id: 'two-steps',
  version: 1,
  defaults: { retry: { maxAttempts: 1 }, timeout: '10s' },
  steps: { first: { worker: 'w' }, second: { worker: 'w', needs: ['first'] } },
};

/** A data dir left by an engine that ran RUNS runs to their end (every 7th fails) in two tenants, then stopped. */
async function runThousand(dir: string): Promise<{ ms: number }> {
  const store = createSqliteEventStore({ path: join(dir, 'events.sqlite') });
  const bus = createInMemoryBus();
  const engine = new Engine({ store, bus });
  const worker = createWorker({
    name: 'w',
    bus,
    handlers: {
      execute: async (ctx) => {
        if ((ctx.input as { fail?: boolean }).fail && ctx.stepId === 'second') throw new Error('second fails');
        return { ok: ctx.stepId };
      },
    },
  });
  await worker.start();
  await engine.start();
  const started = performance.now();
  for (const tenant of ['default', 'acme']) await engine.definitions.register(definition, 'test', tenant);
  const starts = Array.from({ length: RUNS }, (_, i) =>
    engine.startRun({
      definitionId: 'two-steps',
      tenant: i % 2 === 0 ? 'default' : 'acme',
      input: { i, fail: i % 7 === 0 },
      actor: 'test',
    }),
  );
  await Promise.all(starts);
  for (let i = 0; i < 2_000 && ended(engine) < RUNS; i++) await new Promise((r) => setTimeout(r, 10));
  expect(ended(engine)).toBe(RUNS);
  const ms = Math.round(performance.now() - started);
  await worker.stop();
  await engine.stop();
  await store.close();
  return { ms };
}

const ended = (engine: Engine): number =>
  engine
    .countRuns()
    .filter(([, status]) => status === 'completed' || status === 'failed')
    .reduce((sum, [, , count]) => sum + count, 0);

describe('projections rebuild --verify on the SQLite store, after 1,000 runs', () => {
  const root = mkdtempSync(join(tmpdir(), 'orchestron-rebuild-'));
  const original = join(root, 'original');
  let copies = 0;

  beforeAll(async () => {
    const { ms } = await runThousand(mkdirp(original));
    process.stdout.write(`ran ${RUNS} runs on the embedded engine in ${ms} ms\n`);
  }, 60_000);
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  /** A fresh copy of the store the engine left, to alter behind its back. */
  const copy = (): string => {
    const dir = mkdirp(join(root, `copy-${++copies}`));
    copyFileSync(join(original, 'events.sqlite'), join(dir, 'events.sqlite'));
    return join(dir, 'events.sqlite');
  };

  const verify = async (path: string): Promise<ReadModelsVerification> => {
    const store = createSqliteEventStore({ path });
    try {
      return await verifyReadModels(store);
    } finally {
      await store.close();
    }
  };

  it('finds no difference between the persisted models and a rebuild from the log', async () => {
    const report = await verify(copy());
    process.stdout.write(
      `rebuilt ${report.runs} runs / ${report.events} events in ${report.rebuildMs} ms; ` +
        `checkpoint ${JSON.stringify(report.checkpoint)}, ${report.archivedRows} archived rows\n`,
    );
    expect(report.runs).toBe(RUNS);
    expect(report.checkpoint).toEqual({ status: 'restored', position: report.position });
    expect(report.archivedRows).toBe(RUNS);
    expect(report.differences).toEqual([]);
  }, 30_000);

  it('lists an archived row altered behind the store: which run, which field, live and rebuilt', async () => {
    const path = copy();
    const db = new Database(path);
    const { id } = db.prepare("SELECT id FROM read_rows WHERE tbl = 'runs' AND status = 'completed' LIMIT 1").get() as {
      id: string;
    };
    db.prepare("UPDATE read_rows SET status = 'failed' WHERE tbl = 'runs' AND id = ?").run(id);
    db.close();
    const report = await verify(path);
    expect(report.differences).toEqual([{ model: 'run', id, field: 'status', live: 'failed', rebuilt: 'completed' }]);
  }, 30_000);

  it('lists a checkpoint altered behind the store, whether its digest gives it away or it was sealed again', async () => {
    const path = copy();
    const db = new Database(path);
    db.prepare('UPDATE checkpoints SET state = replace(state, \'"acme","completed"\', \'"acme","failed"\')').run();
    const tampered = await verifyAfterClose(db, path);
    expect(tampered.differences).toEqual([
      expect.objectContaining({ model: 'checkpoint', id: 'read-side', field: 'usable' }),
    ]);
    expect(String(tampered.differences[0]?.live)).toContain('does not match the digest');

    const again = new Database(path);
    const row = again.prepare("SELECT position, state FROM checkpoints WHERE name = 'read-side'").get() as {
      position: number;
      state: string;
    };
    const digest = createHash('sha256').update(`read-side\n${row.position}\n${row.state}`).digest('hex');
    again.prepare("UPDATE checkpoints SET digest = ? WHERE name = 'read-side'").run(digest);
    const resealed = await verifyAfterClose(again, path);
    const ids = resealed.differences.map((d) => `${d.model} ${d.id} ${d.field}`);
    expect(ids).toEqual(['count acme/completed present', 'count acme/failed count']);
  }, 30_000);

  it('rebuild (without --verify) rewrites the altered rows and the checkpoint: verify then finds nothing', async () => {
    const path = copy();
    const db = new Database(path);
    db.prepare('UPDATE read_rows SET body = replace(body, \'"phase":"execute"\', \'"phase":"compensate"\')').run();
    db.close();
    const before = await verify(path);
    // Every run whose row said execute: the failed ones were compensating already.
    expect(before.differences.length).toBeGreaterThan(RUNS / 2);
    for (const difference of before.differences)
      expect(difference).toMatchObject({ model: 'run', field: 'phase', live: 'compensate', rebuilt: 'execute' });
    const store: EventStore = createSqliteEventStore({ path });
    const rebuilt = await rebuildReadModels(store);
    const saved = await saveRebuiltModels(store, rebuilt.capture);
    await store.close();
    expect(saved).toEqual({ archived: RUNS, inCheckpoint: 0, checkpoint: 'read-side' });
    expect((await verify(path)).differences).toEqual([]);
  }, 30_000);

  async function verifyAfterClose(db: Database.Database, path: string): Promise<ReadModelsVerification> {
    db.close();
    return verify(path);
  }
});

function mkdirp(dir: string): string {
  mkdirSync(dir, { recursive: true });
  return dir;
}
