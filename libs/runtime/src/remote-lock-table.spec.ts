/** The API process's lock table (RemoteRuns.lockTable): the orchestrator's, read from the store, a little at a time. */
import { describe, expect, it } from '@jest/globals';
import { createInMemoryBus } from '@orchestron/bus';
import { createInMemoryEventStore } from '@orchestron/event-store';
import type { EventStore } from '@orchestron/event-store';
import { Engine } from './engine.ts';
import { LOCK_TABLE_STREAM } from './lock-table-store.ts';
import { RemoteRuns } from './remote-runs.ts';
import { closeAfterEach, eventually, startedRun } from './testing/index.ts';

/** Nobody serves worker "bank": the first run's attempt stays out holding the lock; the second waits for it. */
const transfer = {
  id: 'transfer',
  version: 1,
  steps: { post: { worker: 'bank', locks: [{ name: 'account-${{ input.account }}' }] } },
};

/** The store, noting where each read of the lock table's stream starts. */
function noting(store: EventStore): { store: EventStore; reads: number[] } {
  const reads: number[] = [];
  const readStream: EventStore['readStream'] = (streamId, options) => {
    if (streamId === LOCK_TABLE_STREAM) reads.push(options?.fromRevision ?? 0);
    return store.readStream(streamId, options);
  };
  return { store: { ...store, readStream }, reads };
}

describe('RemoteRuns.lockTable', () => {
  const onClose = closeAfterEach();

  it("answers with the orchestrator's table, and reads only what was appended since it last read", async () => {
    const shared = createInMemoryEventStore();
    const bus = createInMemoryBus();
    const engine = new Engine({ store: shared, bus });
    await engine.start();
    onClose(
      () => engine.stop(),
      () => bus.close(),
    );
    await engine.definitions.register(transfer, 'test', 'acme');
    const api = noting(shared);
    const remote = new RemoteRuns({ store: api.store, bus, waitMs: 5_000 });
    await remote.start();
    onClose(() => remote.stop());
    const start = async (key: string) =>
      (
        await startedRun(
          engine.startRun({
            definitionId: 'transfer',
            input: { account: '1' },
            idempotencyKey: key,
            tenant: 'acme',
            actor: 'test',
          }),
        )
      ).run.runId;

    const holder = await start('k-1');
    await eventually('a holder', async () => ((await engine.lockTable({}))[0]?.holders.length === 1 ? true : null));
    const waiter = await start('k-2');
    const waiting = await eventually('a waiter', async () => {
      const table = await engine.lockTable({});
      return table[0]?.waiting.length === 1 ? table : null;
    });
    expect(await remote.lockTable({})).toEqual(waiting);
    expect(await remote.lockTable({ tenant: 'globex' })).toEqual([]);
    expect(waiting[0]?.holders[0]?.runId).toBe(holder);
    expect(waiting[0]?.waiting[0]?.runId).toBe(waiter);

    await engine.execute(holder, { type: 'Cancel', data: { reason: 'wrong account' } }, 'operator:o');
    const handed = await eventually('the lock handed over', async () => {
      const table = await remote.lockTable({ tenant: 'acme' });
      return table[0]?.holders[0]?.runId === waiter ? table : null;
    });
    expect(handed).toEqual(await engine.lockTable({ tenant: 'acme' }));
    expect(handed[0]?.waiting).toEqual([]);
    // The first read folds the stream from its start; each later one begins past what the fold has.
    await remote.lockTable({});
    const recorded = (await shared.readStream(LOCK_TABLE_STREAM)).length;
    expect(api.reads[0]).toBe(0);
    expect(api.reads.slice(1).every((from, i) => from > 0 && from >= (api.reads[i] ?? 0))).toBe(true);
    expect(api.reads.at(-1)).toBe(recorded);
  });
});
