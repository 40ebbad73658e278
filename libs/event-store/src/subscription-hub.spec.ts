import { describe, expect, it } from '@jest/globals';
import type { RecordedEvent } from './index.ts';
import { createSubscriptionHub } from './subscription-hub.ts';

function eventAt(position: number): RecordedEvent {
  return {
    id: `e-${position}`,
    streamId: 's',
    revision: position - 1,
    position,
    type: 'T',
    data: position,
    metadata: {},
    recordedAt: '2025-01-01T00:00:00.000Z',
  };
}

/** A fake store whose commits the test controls, including sparse positions. */
function fakeLog() {
  const committed: RecordedEvent[] = [];
  const hub = createSubscriptionHub(
    async (after, maxCount) => committed.filter((event) => event.position > after).slice(0, maxCount),
    { pageSize: 3, liveBufferLimit: 4 },
  );
  return {
    hub,
    commit(...positions: number[]) {
      const events = positions.map(eventAt);
      committed.push(...events);
      hub.publish(events);
    },
  };
}

function until(predicate: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const poll = (): void => (predicate() ? resolve() : void setTimeout(poll, 1));
    poll();
  });
}

describe('subscription hub', () => {
  it('falls back to reading the store when a slow subscriber overflows its live buffer', async () => {
    const log = fakeLog();
    log.commit(1, 2, 3, 4, 5, 6, 7);
    const seen: number[] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const subscription = log.hub.subscribe({}, async (event) => {
      seen.push(event.position);
      if (event.position === 2) await gate;
    });
    await until(() => seen.length === 2);
    for (let position = 8; position <= 30; position += 2) log.commit(position, position + 1);
    release();
    await until(() => seen.at(-1) === 31);
    log.commit(40);
    await until(() => seen.at(-1) === 40);
    await subscription.close();
    expect(seen).toEqual([...Array.from({ length: 31 }, (_, index) => index + 1), 40]);
  });

  it('tolerates positions with holes and skips what it already delivered', async () => {
    const log = fakeLog();
    log.commit(2, 5, 9);
    const seen: number[] = [];
    const subscription = log.hub.subscribe({ after: 2 }, (event) => {
      seen.push(event.position);
    });
    log.commit(12, 20);
    await until(() => seen.at(-1) === 20);
    await subscription.close();
    expect(seen).toEqual([5, 9, 12, 20]);
    expect(log.hub.hasSubscribers).toBe(false);
  });

  it('reports a failing read through onError and stops', async () => {
    const failure = new Error('disk gone');
    const hub = createSubscriptionHub(async () => {
      throw failure;
    });
    const reported: unknown[] = [];
    const subscription = hub.subscribe({ onError: (error) => reported.push(error) }, () => undefined);
    await until(() => reported.length === 1);
    await subscription.close();
    expect(reported).toEqual([failure]);
    expect(hub.hasSubscribers).toBe(false);
  });
});
