import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { createInMemoryEventStore } from '@orchestron/event-store';
import type { EventStore } from '@orchestron/event-store';
import { ReadSide } from './read-side.ts';
import { modelsOf, probedReadSide } from './testing/read-side-probe.ts';
import { randomLog } from './testing/random-logs.ts';
import type { LogAppend } from './testing/random-logs.ts';

const T0 = Date.UTC(2026, 10, 1);

/** An in-memory store whose clock moves 7 ms per append, so every run's times differ. */
function newStore(): EventStore {
  let tick = 0;
  return createInMemoryEventStore({ now: () => new Date(T0 + (tick += 7)) });
}

async function appendAll(store: EventStore, appends: readonly LogAppend[]): Promise<number> {
  let events = 0;
  for (const { streamId, events: batch } of appends) {
    await store.append(streamId, batch);
    events += batch.length;
  }
  return events;
}

const readSide = probedReadSide;

/** The models of a read side that replays the whole log, never touching checkpoints. */
async function replayed(store: EventStore): Promise<ReadSide> {
  const side = new ReadSide(store, { checkpoints: false });
  await side.catchUp();
  return side;
}

/** Lets a save in flight finish: its encoding yields to the event loop once per column. */
async function settled(): Promise<void> {
  for (let turn = 0; turn < 50; turn++) await new Promise((resolve) => setImmediate(resolve));
}

describe('read side checkpoints: restoring gives the models a replay from 0 gives (guarantee 9)', () => {
  it('checkpoint at a random cut, then catch-up, equals replay from 0', async () => {
    await fc.assert(
      fc.asyncProperty(randomLog, fc.nat(), async (log, seed) => {
        const cut = seed % (log.length + 1);
        const store = newStore();
        await appendAll(store, log.slice(0, cut));
        const first = readSide(store);
        await first.side.follow();
        await first.side.close();
        const after = await appendAll(store, log.slice(cut));

        const second = readSide(store);
        await second.side.catchUp();
        expect(second.projected()).toBe(after);
        expect(await modelsOf(second.side)).toEqual(await modelsOf(await replayed(store)));
        expect(second.warnings).toEqual([]);
        await second.side.close();
      }),
      { numRuns: 150 },
    );
  });

  it('a checkpoint saved mid catch-up (every few events, no close: a crash) restores and catches up to the same models', async () => {
    await fc.assert(
      fc.asyncProperty(randomLog, fc.integer({ min: 1, max: 9 }), async (log, everyEvents) => {
        const store = newStore();
        const total = await appendAll(store, log);
        const crashed = readSide(store, { checkpoints: { everyEvents } });
        await crashed.side.catchUp();
        await settled();
        const saved = (await store.checkpoints?.load('read-side'))?.position ?? 0;
        expect(saved).toBeLessThanOrEqual(total);
        if (total >= everyEvents) expect(saved).toBeGreaterThanOrEqual(everyEvents);

        const restarted = readSide(store);
        await restarted.side.catchUp();
        expect(restarted.projected()).toBe(total - saved);
        expect(await modelsOf(restarted.side)).toEqual(await modelsOf(await replayed(store)));
        await Promise.all([crashed.side.close(), restarted.side.close()]);
      }),
      { numRuns: 100 },
    );
  });
});
