import { describe, expect, it } from '@jest/globals';
import {
  anEvent,
  appendSequentially,
  createCollector,
  expectStrictlyIncreasing,
  positionsOf,
  range,
  yieldToWriters,
} from './conformance-kit.ts';
import type { GetStore, Ordinal } from './conformance-kit.ts';

const WRITERS = 8;
const EVENTS_PER_WRITER = 50;

export function describeSubscribeConformance(getStore: GetStore, P: Ordinal): void {
  describe('subscribeToAll', () => {
    it(`sees every event exactly once, in order, while ${WRITERS} writers append ${EVENTS_PER_WRITER} events each`, async () => {
      const store = getStore();
      await store.append(
        'seed',
        range(100).map((index) => anEvent('Seeded', { index })),
      );
      // Falling behind now and then forces the subscriber through catch-up and buffering while writes go on.
      const collector = createCollector((_event, index) => (index % 16 === 0 ? yieldToWriters() : undefined));
      const subscription = store.subscribeToAll({ after: 0, onError: collector.onError }, collector.handler);

      await Promise.all(
        range(WRITERS).map((writer) => appendSequentially(store, `writer-${writer}`, EVENTS_PER_WRITER)),
      );
      const sentinel = await store.append('sentinel', [anEvent('Sentinel')]);
      await collector.reach(sentinel.position);
      await subscription.close();

      const all = await store.readAll();
      expect(all).toHaveLength(100 + WRITERS * EVENTS_PER_WRITER + 1);
      expect(positionsOf(collector.events)).toEqual(positionsOf(all));
      expectStrictlyIncreasing(positionsOf(collector.events));
      expect(new Set(collector.events.map((event) => event.id)).size).toBe(all.length);
      for (const writer of range(WRITERS)) {
        const seen = collector.events.filter((event) => event.streamId === `writer-${writer}`);
        expect(seen.map((event) => event.revision)).toEqual(range(EVENTS_PER_WRITER));
      }
    });

    it('started from a middle position, sees exactly the later events, stored and live', async () => {
      const store = getStore();
      for (const index of range(40)) await store.append(`s-${index % 4}`, [anEvent('Stored', { index })]);
      const middle = (await store.readAll())[19]?.position ?? 0;

      const collector = createCollector();
      const subscription = store.subscribeToAll({ after: middle, onError: collector.onError }, collector.handler);
      await Promise.all(range(4).map((stream) => store.append(`s-${stream}`, [anEvent('Live', { stream })])));
      const sentinel = await store.append('sentinel', [anEvent('Sentinel')]);
      await collector.reach(sentinel.position);
      await subscription.close();

      const later = await store.readAll({ after: middle });
      expect(later).toHaveLength(20 + 4 + 1);
      expect(positionsOf(collector.events)).toEqual(positionsOf(later));
      expect(collector.events[0]?.data).toEqual({ index: 20 });
    });

    it('started at the head, sees only events appended afterwards', async () => {
      const store = getStore();
      const head = await store.append('before', [anEvent('Old'), anEvent('Old')]);
      const collector = createCollector();
      const subscription = store.subscribeToAll(
        { after: head.position, onError: collector.onError },
        collector.handler,
      );
      const live = await store.append('after', [anEvent('New')]);
      await collector.reach(live.position);
      await subscription.close();
      expect(collector.events.map((event) => event.type)).toEqual(['New']);
    });

    it('awaits the handler one event at a time', async () => {
      const store = getStore();
      let running = 0;
      let overlapped = false;
      const collector = createCollector(async () => {
        running += 1;
        overlapped ||= running > 1;
        await yieldToWriters();
        running -= 1;
      });
      const subscription = store.subscribeToAll({ onError: collector.onError }, collector.handler);
      await Promise.all(range(5).map((stream) => store.append(`s-${stream}`, [anEvent('A'), anEvent('B')])));
      await collector.reach(10);
      await subscription.close();
      expect(overlapped).toBe(false);
    });

    it('stops at the first error the handler throws and reports it through onError', async () => {
      const store = getStore();
      const boom = new Error('projection failed');
      const collector = createCollector((_event, index) => {
        if (index === 2) throw boom;
      });
      const subscription = store.subscribeToAll({ onError: collector.onError }, collector.handler);
      await store.append(
        'order-1',
        range(5).map(() => anEvent('Step')),
      );
      expect(await collector.failure()).toBe(boom);

      const witness = createCollector();
      const barrier = store.subscribeToAll({ onError: witness.onError }, witness.handler);
      const later = await store.append('order-1', [anEvent('Later')]);
      await witness.reach(later.position);
      await Promise.all([subscription.close(), barrier.close()]);
      expect(positionsOf(collector.events)).toEqual([await P(1), await P(2), await P(3)]);
    });

    it('delivers nothing once closed, and the store stays usable', async () => {
      const store = getStore();
      const collector = createCollector();
      const subscription = store.subscribeToAll({ onError: collector.onError }, collector.handler);
      const first = await store.append('order-1', [anEvent('Placed')]);
      await collector.reach(first.position);
      await subscription.close();

      const witness = createCollector();
      const barrier = store.subscribeToAll({ onError: witness.onError }, witness.handler);
      const later = await store.append('order-1', [anEvent('Paid')]);
      await witness.reach(later.position);
      await barrier.close();
      expect(positionsOf(collector.events)).toEqual([first.position]);
      expect(positionsOf(witness.events)).toEqual([first.position, later.position]);
    });

    it('can be closed from inside its own handler', async () => {
      const store = getStore();
      const collector = createCollector();
      const subscription = store.subscribeToAll({ onError: collector.onError }, async (event) => {
        await collector.handler(event);
        if (event.revision === 1) void subscription.close();
      });
      await store.append(
        'order-1',
        range(4).map(() => anEvent('Step')),
      );
      await collector.reach(await P(2));
      await subscription.close();
      expect(positionsOf(collector.events)).toEqual([await P(1), await P(2)]);
    });
  });
}
