import { describe, expect, it } from '@jest/globals';
import { createInMemoryEventStore } from '@orchestron/event-store';
import type { CheckpointStore, EventData, EventStore } from '@orchestron/event-store';
import type { Logger } from './ports.ts';
import { replay } from './replay.ts';
import { RUN_SNAPSHOT_FORMAT, RunSnapshots, snapshotName } from './run-snapshots.ts';

const T0 = Date.UTC(2026, 10, 1);
const started: EventData = {
  type: 'RunStarted',
  data: {
    runId: 'r1',
    definition: { id: 'd', version: 1, steps: { a: { worker: 'w' } }, order: ['a'] },
    input: { n: 1 },
    idempotencyKey: null,
    startedBy: 'test',
    at: T0,
  },
};
/** The n-th event after the start: a long run that pauses and resumes, each event changing the state. */
const nth = (n: number): EventData => ({
  type: n % 2 === 1 ? 'RunPaused' : 'RunResumed',
  data: { by: `op-${n}`, at: T0 + n },
});

/** A store that counts the events its stream reads hand back. */
function countingStore(): { store: EventStore; read: () => number } {
  const inner = createInMemoryEventStore();
  let read = 0;
  return {
    store: {
      ...inner,
      readStream: async (streamId, options) => {
        const events = await inner.readStream(streamId, options);
        read += events.length;
        return events;
      },
    },
    read: () => {
      const value = read;
      read = 0;
      return value;
    },
  };
}

function snapshots(store: EventStore, everyEvents: number) {
  const warnings: string[] = [];
  const logger: Logger = { info: () => undefined, warn: (m) => warnings.push(m), error: () => undefined };
  const checkpoints = store.checkpoints as CheckpointStore;
  return { runs: new RunSnapshots({ store, checkpoints, logger, everyEvents }), warnings, checkpoints };
}

const settled = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('run snapshots', () => {
  it('at every length of a long run, a load (snapshot + tail) is the fold of the whole stream, reading at most N + 1 events', async () => {
    const { store, read } = countingStore();
    const { runs } = snapshots(store, 25);
    await store.append('run-r1', [started]);
    for (let n = 1; n < 260; n++) {
      const before = (await store.streamRevision('run-r1')) as number;
      await store.append('run-r1', [nth(n)]);
      // What the engine does after each append: tell the snapshots, which save one every 25 events.
      runs.appended('r1', replay(await store.readStream('run-r1')) as never, before, { revision: n, ...nth(n) });
      await settled();
      read();
      const loaded = await runs.load('r1');
      expect(read()).toBeLessThanOrEqual(26);
      expect(loaded).toEqual({ state: replay(await store.readStream('run-r1')), revision: n });
    }
  });

  it('a load that folded N events or more leaves a snapshot for the next one (the API process, which never appends)', async () => {
    const { store, read } = countingStore();
    const { runs, checkpoints } = snapshots(store, 50);
    await store.append('run-r1', [started, ...Array.from({ length: 199 }, (_, i) => nth(i + 1))]);
    await runs.load('r1');
    expect(read()).toBe(200);
    await settled();
    expect((await checkpoints.load(snapshotName('r1')))?.position).toBe(199);
    await store.append('run-r1', [nth(200), nth(201)]);
    expect((await runs.load('r1')).revision).toBe(201);
    expect(read()).toBe(3);
  });

  it('passes over a snapshot that is not of this stream (a store restored from a backup that moved on since)', async () => {
    const { store } = countingStore();
    const { runs, warnings } = snapshots(store, 10);
    await store.append('run-r1', [started, ...Array.from({ length: 19 }, (_, i) => nth(i + 1))]);
    await runs.load('r1');
    await settled();
    const other = createInMemoryEventStore();
    await other.checkpoints?.save(snapshotName('r1'), (await store.checkpoints?.load(snapshotName('r1')))!);
    await other.append('run-r1', [started, ...Array.from({ length: 24 }, (_, i) => nth(i + 2))]);
    const restored = snapshots(other, 10);
    expect(await restored.runs.load('r1')).toEqual({ state: replay(await other.readStream('run-r1')), revision: 24 });
    expect(restored.warnings).toEqual(['run snapshot is not of this stream; folding the whole stream']);
    expect(warnings).toEqual([]);
  });

  it('passes over a snapshot ahead of its stream, of another format, of another run, or unreadable', async () => {
    const { store } = countingStore();
    const { runs, warnings, checkpoints } = snapshots(store, 1000);
    await store.append('run-r1', [started, nth(1), nth(2)]);
    const truth = { state: replay(await store.readStream('run-r1')), revision: 2 };
    const state = JSON.stringify(truth.state);
    const bad = [
      { position: 7, state: `{"format":${RUN_SNAPSHOT_FORMAT},"revision":7,"event":"x","state":${state}}` },
      { position: 1, state: `{"format":${RUN_SNAPSHOT_FORMAT + 1},"revision":1,"event":"x","state":${state}}` },
      {
        position: 1,
        state: `{"format":${RUN_SNAPSHOT_FORMAT},"revision":1,"event":"x","state":${state.replace('"r1"', '"r2"')}}`,
      },
      { position: 1, state: `{"format":${RUN_SNAPSHOT_FORMAT},` },
    ];
    for (const snapshot of bad) {
      await checkpoints.save(snapshotName('r1'), snapshot);
      expect(await runs.load('r1')).toEqual(truth);
    }
    expect(warnings).toEqual([
      'run snapshot is not of this stream; folding the whole stream',
      'run snapshot ignored: not of this format or run',
      'run snapshot ignored: not of this format or run',
      'run snapshot ignored',
    ]);
  });
});
