import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { createInMemoryEventStore } from '@orchestron/event-store';
import { RUN_STATUSES } from '@orchestron/workflow-core';
import type { CheckpointStore, EventStore } from '@orchestron/event-store';
import type { SealedCheckpoint } from '@orchestron/event-store/adapter';
import { ReadSide } from './read-side.ts';
import { modelsOf, probedReadSide } from './testing/read-side-probe.ts';
import { decodeReadSide, encodeReadSide, READ_SIDE_FORMAT } from './read-side-codec.ts';
import type { IndexedRun } from './run-index.ts';

const T0 = Date.UTC(2026, 10, 1);
const started = (runId: string) => ({
  type: 'RunStarted',
  data: { runId, definition: { id: 'd', version: 1, steps: {}, order: [] }, input: null },
});

/** A store holding `runs` runs of three events each. */
async function storeWithRuns(runs: number, records?: Map<string, SealedCheckpoint>): Promise<EventStore> {
  let tick = 0;
  const store = createInMemoryEventStore({
    now: () => new Date(T0 + (tick += 7)),
    ...(records ? { checkpointRecords: records } : {}),
  });
  for (let index = 0; index < runs; index++)
    await store.append(`run-r${index}`, [
      started(`r${index}`),
      { type: 'ApprovalRequested', data: { stepId: 'a' } },
      { type: 'RunPaused', data: { by: 'op' } },
    ]);
  return store;
}

const readSide = probedReadSide;

async function replayedCapture(store: EventStore) {
  const side = new ReadSide(store, { checkpoints: false });
  await side.catchUp();
  return modelsOf(side);
}

async function checkpointed(store: EventStore): Promise<void> {
  const { side } = readSide(store);
  await side.catchUp();
  await side.close();
}

const checkpointsOf = (store: EventStore): CheckpointStore => store.checkpoints as CheckpointStore;
const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('read side checkpoints: what cannot be trusted is ignored, said, and replaced', () => {
  /** Starts a read side on `store` and checks it replayed everything, warned with `reason`, and then saved anew. */
  async function expectReplayFromZero(store: EventStore, reason: RegExp): Promise<void> {
    const total = (await store.readAll()).length;
    const restarted = readSide(store);
    await restarted.side.catchUp();
    expect(restarted.warnings).toEqual([expect.stringMatching(reason)]);
    expect(restarted.projected()).toBe(total);
    expect(await modelsOf(restarted.side)).toEqual(await replayedCapture(store));
    await restarted.side.close();
    const replaced = await checkpointsOf(store).load('read-side');
    expect(replaced?.position).toBe(total);
    expect(decodeReadSide(replaced?.state ?? '').position).toBe(total);
  }

  it('a checkpoint of another format version', async () => {
    const store = await storeWithRuns(4);
    await checkpointsOf(store).save('read-side', { position: 12, state: JSON.stringify({ format: 99, position: 12 }) });
    await expectReplayFromZero(store, new RegExp(`its format is 99, this version reads ${READ_SIDE_FORMAT}`));
  });

  it('a checkpoint that does not parse', async () => {
    const store = await storeWithRuns(4);
    await checkpointsOf(store).save('read-side', { position: 12, state: '{"format":1,"runs":[' });
    await expectReplayFromZero(store, /does not parse as JSON/);
  });

  it('a checkpoint whose content is malformed', async () => {
    const store = await storeWithRuns(4);
    await checkpointed(store);
    const good = JSON.parse((await checkpointsOf(store).load('read-side'))?.state ?? '') as {
      runs: { status: number[]; position: number[] };
    };
    good.runs.status[0] = 42;
    await checkpointsOf(store).save('read-side', { position: 12, state: JSON.stringify(good) });
    await expectReplayFromZero(store, /run #0 points past a table/);
    good.runs.status[0] = 0;
    good.runs.position.pop();
    await checkpointsOf(store).save('read-side', { position: 12, state: JSON.stringify(good) });
    await expectReplayFromZero(store, /its position column is malformed/);
  });

  it('a checkpoint the store finds corrupt', async () => {
    const records = new Map<string, SealedCheckpoint>();
    const store = await storeWithRuns(4, records);
    await checkpointed(store);
    const sealed = records.get('read-side') as SealedCheckpoint;
    records.set('read-side', { ...sealed, state: sealed.state.replace('"r1"', '"r9"') });
    await expectReplayFromZero(store, /checkpoint 'read-side' is corrupt/);
  });

  it('a checkpoint ahead of the store, as after restoring the store from a backup', async () => {
    const store = await storeWithRuns(4);
    await checkpointed(store);
    const backup = await storeWithRuns(2);
    await checkpointsOf(backup).save('read-side', (await checkpointsOf(store).load('read-side'))!);
    await expectReplayFromZero(backup, /at position 12, ahead of the event store/);
  });

  it('a checkpoint of another log at the same position (a backup that has moved on since)', async () => {
    const store = await storeWithRuns(4);
    await checkpointed(store);
    const other = await storeWithRuns(5);
    await checkpointsOf(other).save('read-side', (await checkpointsOf(store).load('read-side'))!);
    await expectReplayFromZero(other, /holds another event at position 12/);
  });

  it('a checkpoint whose position inside disagrees with the one it was saved at', async () => {
    const store = await storeWithRuns(4);
    await checkpointed(store);
    const { state } = (await checkpointsOf(store).load('read-side'))!;
    await checkpointsOf(store).save('read-side', { position: 9, state });
    await expectReplayFromZero(store, /says position 12 inside and 9 outside/);
  });
});

describe('read side checkpoints: when they are saved', () => {
  it('every N projected events, off the projection path, and on close', async () => {
    const store = await storeWithRuns(5);
    const { side } = readSide(store, { checkpoints: { everyEvents: 4 } });
    await side.catchUp();
    for (
      let waited = 0;
      ((await checkpointsOf(store).load('read-side'))?.position ?? 0) < 4 && waited < 2_000;
      waited += 5
    )
      await pause(5);
    expect((await checkpointsOf(store).load('read-side'))?.position).toBeGreaterThanOrEqual(4);
    await store.append('run-r9', [started('r9')]);
    await side.catchUp();
    await side.close();
    expect((await checkpointsOf(store).load('read-side'))?.position).toBe(16);
  });

  it('on a timer, once something was projected since the last save', async () => {
    const store = await storeWithRuns(1);
    const { side } = readSide(store, { checkpoints: { everyEvents: 1_000, everyMs: 20 } });
    await side.follow();
    await store.append('run-r7', [started('r7')]);
    for (let waited = 0; (await checkpointsOf(store).load('read-side'))?.position !== 4 && waited < 2_000; waited += 10)
      await pause(10);
    expect((await checkpointsOf(store).load('read-side'))?.position).toBe(4);
    await side.close();
  });

  it('never before the models were restored: closing a read side that never caught up leaves the checkpoint', async () => {
    const store = await storeWithRuns(3);
    await checkpointed(store);
    const before = await checkpointsOf(store).load('read-side');
    await readSide(store).side.close();
    expect(await checkpointsOf(store).load('read-side')).toEqual(before);
  });

  it('a save that fails is logged, and the projection goes on', async () => {
    const store = await storeWithRuns(3);
    const failing: EventStore = {
      ...store,
      checkpoints: {
        load: (name) => checkpointsOf(store).load(name),
        save: async () => {
          throw new Error('disk full');
        },
      },
    };
    const { side, warnings } = readSide(failing, { checkpoints: { everyEvents: 2 } });
    await side.catchUp();
    await pause(5);
    expect(side.index.position).toBe(9);
    await side.close();
    expect(warnings).toContainEqual(
      expect.stringMatching(/could not save the read models checkpoint.*: Error: disk full/),
    );
  });

  it('not with checkpoints: false, nor on a store without the capability', async () => {
    const store = await storeWithRuns(3);
    const off = readSide(store, { checkpoints: false });
    await off.side.catchUp();
    await off.side.close();
    expect(await checkpointsOf(store).load('read-side')).toBeUndefined();
    const without = readSide({ ...store, checkpoints: undefined });
    await without.side.catchUp();
    await without.side.close();
    expect(without.side.index.position).toBe(9);
    expect(await checkpointsOf(store).load('read-side')).toBeUndefined();
  });
});

describe('read side codec', () => {
  const iso = fc.oneof(
    fc.integer({ min: 0, max: 4_102_444_800_000 }).map((ms) => new Date(ms).toISOString()),
    fc.constantFrom('2026-11-01T00:00:00Z', '2026-11-01T00:00:00.000+01:00', 'not a time'),
  );
  const run: fc.Arbitrary<IndexedRun> = fc.record({
    id: fc.string({ minLength: 1 }),
    tenant: fc.constantFrom('default', 'acme', ''),
    definitionId: fc.string(),
    definitionVersion: fc.integer({ min: 1, max: 1000 }),
    status: fc.constantFrom(...RUN_STATUSES),
    phase: fc.constantFrom('execute', 'compensate'),
    createdAt: iso,
    updatedAt: iso,
    attention: fc.option(
      fc.record({ code: fc.string(), message: fc.string(), stepId: fc.option(fc.string(), { nil: null }) }),
      { nil: null },
    ),
    waitingApproval: fc.array(fc.string(), { maxLength: 3 }),
    position: fc.integer({ min: 1, max: 1_000_000 }),
  });

  it('round-trips any runs exactly, times that are not canonical ISO text included', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(run, { maxLength: 30 }), async (runs) => {
        const capture = { position: 1_000_000, lastEventId: 'e', runs, counts: [], definitions: [] };
        expect(decodeReadSide(await encodeReadSide(capture))).toEqual(capture);
      }),
      { numRuns: 200 },
    );
  });

  it(`writes format ${READ_SIDE_FORMAT} in about 70 bytes a run`, async () => {
    const runs: IndexedRun[] = Array.from({ length: 1000 }, (_, index) => ({
      id: globalThis.crypto.randomUUID(),
      tenant: 'default',
      definitionId: 'employee-onboarding',
      definitionVersion: 3,
      status: 'completed',
      phase: 'execute',
      createdAt: new Date(T0 + index * 1000).toISOString(),
      updatedAt: new Date(T0 + index * 1000 + 250).toISOString(),
      attention: null,
      waitingApproval: [],
      position: index * 10 + 10,
    }));
    const text = await encodeReadSide({ position: 10_000, lastEventId: 'e', runs, counts: [], definitions: [] });
    expect(text.length / runs.length).toBeLessThan(75);
  });
});
