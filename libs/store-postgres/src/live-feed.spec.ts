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
  const append = (): number => appendEvent().position;
  const appendEvent = (): RecordedEvent => {
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
    return table[position - 1] as RecordedEvent;
  };
  const settle = async (): Promise<void> => {
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
  };
  return {
    feed,
    append,
    appendEvent,
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

  it("passes this process's own appends on without reading them back, and their NOTIFY echo costs nothing", async () => {
    const w = world();
    await w.settle();
    const before = w.reads;
    const mine = [w.appendEvent(), w.appendEvent()];
    w.feed.appended(mine);
    w.feed.committed(2); // the NOTIFY's echo
    await w.settle();
    expect(w.reads - before).toBe(0);
    expect(w.seen).toEqual([1, 2]);
    await w.feed.close();
  });

  it('reads when its own appends do not follow what it passed on: another process committed in between', async () => {
    const w = world();
    await w.settle();
    w.append(); // another process's commit, its notification not here yet
    const mine = w.appendEvent();
    const before = w.reads;
    w.feed.appended([mine]);
    await w.settle();
    expect(w.reads - before).toBe(1);
    expect(w.seen).toEqual([1, 2]);
    await w.feed.close();
  });

  it('delivers in order when its own appends come while a read of earlier positions is out', async () => {
    const w = world();
    await w.settle();
    const release = w.hold();
    w.feed.committed(w.append()); // another process's commit: a read goes out
    const mine = w.appendEvent();
    w.feed.appended([mine]);
    release();
    await w.settle();
    expect(w.seen).toEqual([1, 2]);
    await w.feed.close();
  });

  it("holds a NOTIFY that arrives before its own append's answer, so the echo costs no read", async () => {
    const w = world();
    await w.settle();
    const before = w.reads;
    w.feed.appendStarted();
    const mine = w.appendEvent();
    w.feed.notifiedRows(mine.position, () => []); // the echo, ahead of the answer, its row too big to carry
    await w.settle();
    w.feed.appended([mine]);
    w.feed.appendEnded();
    await w.settle();
    expect(w.reads - before).toBe(0);
    expect(w.seen).toEqual([1]);
    await w.feed.close();
  });

  it("reads a held notice past its own append once that append is answered: another process's commit", async () => {
    const w = world();
    await w.settle();
    w.feed.appendStarted();
    const mine = w.appendEvent();
    const theirs = w.append();
    w.feed.notifiedRows(theirs, () => []);
    await w.settle();
    expect(w.seen).toEqual([]);
    w.feed.appended([mine]);
    w.feed.appendEnded();
    await w.settle();
    expect(w.seen).toEqual([1, 2]);
    await w.feed.close();
  });

  it('reads a held notice when its own append failed', async () => {
    const w = world();
    await w.settle();
    w.feed.appendStarted();
    const theirs = w.append();
    w.feed.notifiedRows(theirs, () => []);
    w.feed.appendEnded();
    await w.settle();
    expect(w.seen).toEqual([1]);
    await w.feed.close();
  });

  it("passes another process's rows from a notice on without a read, and its own echo costs nothing", async () => {
    const w = world();
    await w.settle();
    const before = w.reads;
    const theirs = [w.appendEvent(), w.appendEvent()];
    w.feed.notifiedRows(2, () => theirs);
    const mine = w.appendEvent();
    w.feed.appendStarted();
    w.feed.notifiedRows(3, () => [mine]); // the echo of its own append, ahead of the answer: passed on as it is
    w.feed.appended([mine]);
    w.feed.appendEnded();
    await w.settle();
    expect(w.reads - before).toBe(0);
    expect(w.seen).toEqual([1, 2, 3]);
    await w.feed.close();
  });

  it('reads what a notice covers but does not carry: a row too big for one, or a notice missed before it', async () => {
    const w = world();
    await w.settle();
    const big = w.appendEvent();
    w.feed.notifiedRows(big.position, () => []); // too big to send: the notice only says it is committed
    await w.settle();
    expect(w.seen).toEqual([1]);
    const missed = w.appendEvent(); // its notice was lost
    const next = w.appendEvent();
    const before = w.reads;
    w.feed.notifiedRows(next.position, () => [next]);
    await w.settle();
    expect(w.reads - before).toBe(1);
    expect(w.seen).toEqual([1, missed.position, next.position]);
    await w.feed.close();
  });

  it('reads, in order, when a notice comes while a read of earlier positions is out', async () => {
    const w = world();
    await w.settle();
    const release = w.hold();
    w.feed.committed(w.append()); // a read goes out
    const theirs = w.appendEvent();
    w.feed.notifiedRows(theirs.position, () => [theirs]);
    release();
    await w.settle();
    expect(w.seen).toEqual([1, 2]);
    await w.feed.close();
  });

  it('does not parse a notice of positions it passed on already, and reads when a notice cannot be parsed', async () => {
    const w = world();
    await w.settle();
    const mine = w.appendEvent();
    w.feed.appended([mine]); // its own append, passed on as it is
    let parsed = 0;
    w.feed.notifiedRows(mine.position, () => {
      parsed++;
      return [mine];
    }); // that append's echo
    expect(parsed).toBe(0);
    const theirs = w.appendEvent();
    const before = w.reads;
    w.feed.notifiedRows(theirs.position, () => null); // rows that do not parse
    await w.settle();
    expect(w.reads - before).toBe(1);
    expect(w.seen).toEqual([1, 2]);
    await w.feed.close();
  });
});
