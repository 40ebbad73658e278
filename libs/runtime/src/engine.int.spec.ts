import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInMemoryBus } from '@orchestron/bus';
import type { MessageBus } from '@orchestron/bus';
import { createSqliteEventStore } from '@orchestron/store-sqlite';
import type { EventStore } from '@orchestron/event-store';
import { fold } from '@orchestron/workflow-core';
import type { WorkflowEvent } from '@orchestron/workflow-core';
import { createWorker } from '@orchestron/worker-sdk';
import type { Worker } from '@orchestron/worker-sdk';
import { Engine } from './engine.ts';
import type { EngineOptions } from './engine-options.ts';
import { snapshotName } from './run-snapshots.ts';
import type { Logger } from './ports.ts';
import { RunIndex } from './run-index.ts';

const definition = {
  id: 'flaky-chain',
  version: 1,
  defaults: { retry: { maxAttempts: 5, backoff: 'fixed', initialDelay: '300ms', jitter: 'none' }, timeout: '10s' },
  steps: {
    first: { worker: 'w' },
    second: { worker: 'w', needs: ['first'] },
    third: { worker: 'w', needs: ['second'], join: 'all_done' },
  },
};

describe('the engine on the SQLite store', () => {
  const open: { engine: Engine; store: EventStore; bus: MessageBus; worker: Worker }[] = [];
  afterEach(async () => {
    for (const o of open.splice(0)) {
      await o.worker.stop();
      await o.engine.stop();
      await o.store.close();
    }
  });

  const boot = async (
    path: string,
    failFirstAttemptOf: string | null,
    logger?: Logger,
    extra: Partial<EngineOptions> = {},
  ): Promise<{ engine: Engine; store: EventStore }> => {
    const store = createSqliteEventStore({ path });
    const bus = createInMemoryBus();
    const engine = new Engine({ store, bus, ...(logger ? { logger } : {}), ...extra });
    const worker = createWorker({
      name: 'w',
      bus,
      handlers: {
        execute: async (ctx) => {
          if (ctx.stepId === failFirstAttemptOf && ctx.attempt === 1) throw new Error('first attempt fails');
          return { step: ctx.stepId, attempt: ctx.attempt };
        },
      },
    });
    await worker.start();
    await engine.start();
    open.push({ engine, store, bus, worker });
    return { engine, store };
  };

  const settle = async (engine: Engine, runId: string): Promise<string> => {
    for (let i = 0; i < 500; i++) {
      const run = await engine.getRun(runId);
      if (run && ['completed', 'failed', 'compensated'].includes(run.status)) return run.status;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error('run did not settle');
  };

  it('keeps a scheduled retry across a restart: the durable timer fires in the new process', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'orchestron-engine-')), 'events.sqlite');
    const first = await boot(path, 'second');
    await first.engine.definitions.register(definition, 'test');
    const { run } = await first.engine.startRun({ definitionId: 'flaky-chain', input: {}, actor: 'test' });
    for (let i = 0; i < 200 && (await first.engine.getRun(run.runId))?.steps.second?.status !== 'retry_scheduled'; i++)
      await new Promise((r) => setTimeout(r, 5));
    expect((await first.engine.getRun(run.runId))?.steps.second?.status).toBe('retry_scheduled');
    const o = open.pop();
    await o?.worker.stop();
    await o?.engine.stop();
    await o?.store.close();

    const second = await boot(path, null);
    expect(second.engine.scheduledTimers).toBeGreaterThan(0);
    expect(await settle(second.engine, run.runId)).toBe('completed');
    expect((await second.engine.getRun(run.runId))?.steps.second?.attempt).toBe(2);
  });

  it('replays: state at any revision is the fold of the stream, and the run list rebuilt from the log equals the live one', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'orchestron-engine-')), 'events.sqlite');
    const { engine, store } = await boot(path, 'first');
    await engine.definitions.register(definition, 'test');
    const ids: string[] = [];
    for (let i = 0; i < 10; i++)
      ids.push((await engine.startRun({ definitionId: 'flaky-chain', input: { i }, actor: 'test' })).run.runId);
    for (const id of ids) expect(await settle(engine, id)).toBe('completed');

    const history = await engine.history(ids[0] as string);
    const events = history.map((e) => ({ type: e.type, data: e.data }) as WorkflowEvent);
    for (const revision of [0, 3, Math.floor(history.length / 2), history.length - 1]) {
      expect(await engine.stateAt(ids[0] as string, revision)).toEqual(fold(events.slice(0, revision + 1)));
    }
    expect(await engine.getRun(ids[0] as string)).toEqual(fold(events));

    for (let i = 0; i < 100 && engine.index.position < (await store.readAll({ after: 0 })).at(-1)!.position; i++)
      await new Promise((r) => setTimeout(r, 10));
    const rebuilt = new RunIndex();
    for (const e of await store.readAll({ after: 0 })) rebuilt.apply(e);
    expect(await rebuilt.snapshot()).toEqual(await engine.index.snapshot());
    expect((await rebuilt.snapshot()).map((r) => r.status)).toEqual(Array(10).fill('completed'));
  });

  it('starts again from the read models checkpoint it saved on stop, and ends with the models a replay gives', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'orchestron-engine-')), 'events.sqlite');
    const first = await boot(path, null);
    await first.engine.definitions.register(definition, 'test');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push((await first.engine.startRun({ definitionId: 'flaky-chain', input: { i }, actor: 'test' })).run.runId);
    for (const id of ids) expect(await settle(first.engine, id)).toBe('completed');
    const o = open.pop();
    await o?.worker.stop();
    await o?.engine.stop();
    await o?.store.close();

    const lines: { message: string; fields: Record<string, unknown> | undefined }[] = [];
    const logger: Logger = {
      info: (message, fields) => lines.push({ message, fields }),
      warn: (message, fields) => lines.push({ message, fields }),
      error: (message, fields) => lines.push({ message, fields }),
    };
    const second = await boot(path, null, logger);
    const head = (await second.store.readAll()).at(-1)?.position;
    const restored = lines.find((line) => line.message === 'read models restored from their checkpoint');
    // The five ended runs went to the store's read rows on stop: the checkpoint holds none of them in memory.
    expect(restored?.fields).toMatchObject({ position: head, runs: 0 });
    expect(lines.filter((line) => line.message.includes('ignored'))).toEqual([]);
    const rebuilt = new RunIndex();
    for (const e of await second.store.readAll()) rebuilt.apply(e);
    expect(await second.engine.index.snapshot()).toEqual(await rebuilt.snapshot());
    expect(await second.engine.index.snapshot()).toHaveLength(5);
    expect(second.engine.countRuns()).toEqual([['default', 'completed', 5]]);
    expect(second.engine.definitions.list()).toEqual([expect.objectContaining({ id: 'flaky-chain', versions: [1] })]);
  });

  it('snapshots runs as they grow, and loads them from the snapshot to the same state as a fold of the stream', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'orchestron-engine-')), 'events.sqlite');
    const { engine, store } = await boot(path, 'second', undefined, { runSnapshots: { everyEvents: 4 } });
    await engine.definitions.register(definition, 'test');
    const { run } = await engine.startRun({ definitionId: 'flaky-chain', input: {}, actor: 'test' });
    expect(await settle(engine, run.runId)).toBe('completed');
    const history = await store.readStream(`run-${run.runId}`);
    const snapshot = await store.checkpoints?.load(snapshotName(run.runId));
    expect(history.length).toBeGreaterThan(8);
    expect(snapshot?.position).toBeGreaterThanOrEqual(Math.floor(history.length / 4) * 4 - 1);
    // An ended run is not cached: this load is the snapshot and the events after it.
    expect(await engine.getRun(run.runId)).toEqual(
      fold(history.map((e) => ({ type: e.type, data: e.data }) as WorkflowEvent)),
    );
  });
});
