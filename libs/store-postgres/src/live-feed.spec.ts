import { describe, expect, it } from '@jest/globals';
import type { RecordedEvent } from '@orchestron/event-store';
import { createSubscriptionHub } from '@orchestron/event-store/adapter';
import { createLiveFeed } from './live-feed.ts';

/**
 * The live feed over a table held in memory: pure code under test, the reads counted. Each commit of a process is
 * announced twice, by the process itself and by its NOTIFY's echo; the second must not cost a read.
 */
function world() {
  const table: RecordedEvent[] = [];
  let reads = 0;
  let gate: Promise<void> = Promise.resolve();
  const readAll = async (after: number, maxCount: number): Promise<readonly RecordedEvent[]> => {
    reads++;
    await gate;
    return table.filter((e) => e.position > after).slice(0, maxCount);
  };
  const hub = createSubscriptionHub(readAll);
  const feed = createLiveFeed({ hub, readAll, head: 0, pollIntervalMs: 60_000 });
  const seen: number[] = [];
  hub.subscribe({ after: 0 }, async (event) => void seen.push(event.position));
  const append = (): number => {
    const position = table.length + 1;
    table.push({
      id: `e${position}`,
      streamId: 's',
      revision: position - 1,
      position,
      type: 'T',
      data: {},
      metadata: {},
      recordedAt: new Date(0).toISOString(),
    });
    return position;
  };
  const settle = async (): Promise<void> => {
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
  };
  return {
    feed,
    append,
    seen,
    settle,
    get reads() {
      return reads;
    },
    hold(): () => void {
      let release!: () => void;
      gate = new Promise((resolve) => (release = resolve));
      return release;
    },
  };
}

describe('the live feed', () => {
  it('given its own commit read, its NOTIFY echo (arriving while the read is out) costs no second read', async () => {
    const w = world();
    await w.settle();
    const before = w.reads;
    const release = w.hold();
    const position = w.append();
    w.feed.committed(position); // this process's commit
    w.feed.committed(position); // its NOTIFY, while the read is still out
    release();
    await w.settle();
    expect(w.reads - before).toBe(1);
    expect(w.seen).toEqual([1]);
    w.feed.committed(position); // an echo arriving late
    await w.settle();
    expect(w.reads - before).toBe(1);
    await w.feed.close();
  });

  it('when another commit is announced while a read is out, reads again and delivers it in order', async () => {
    const w = world();
    await w.settle();
    const release = w.hold();
    const first = w.append();
    w.feed.committed(first);
    const second = w.append(); // another process commits after the read began
    w.feed.committed(second);
    release();
    await w.settle();
    expect(w.seen).toEqual([1, 2]);
    await w.feed.close();
  });

  it('a wake without a position (a poll, a reconnect) still reads once', async () => {
    const w = world();
    await w.settle();
    w.append(); // committed elsewhere, its notification lost
    const before = w.reads;
    w.feed.wake();
    await w.settle();
    expect(w.reads - before).toBe(1);
    expect(w.seen).toEqual([1]);
    await w.feed.close();
  });
});
