import { describe, expect, it } from '@jest/globals';
import type { EventStore } from '../event-store.port.ts';
import { anEvent, expectStrictlyIncreasing, positionsOf, range } from './conformance-kit.ts';
import type { GetStore, Ordinal } from './conformance-kit.ts';

async function tenEventStream(store: EventStore): Promise<void> {
  await store.append(
    'order-1',
    range(10).map((index) => anEvent('Step', { index })),
  );
}

function revisionsOf(events: readonly { revision: number }[]): number[] {
  return events.map((event) => event.revision);
}

export function describeReadConformance(getStore: GetStore, P: Ordinal): void {
  describe('readStream', () => {
    it('reads forwards from a revision, honouring maxCount', async () => {
      const store = getStore();
      await tenEventStream(store);
      expect(revisionsOf(await store.readStream('order-1'))).toEqual(range(10));
      expect(revisionsOf(await store.readStream('order-1', { fromRevision: 3, maxCount: 4 }))).toEqual([3, 4, 5, 6]);
      expect(
        revisionsOf(await store.readStream('order-1', { fromRevision: 8, maxCount: 5, direction: 'forwards' })),
      ).toEqual([8, 9]);
      expect(await store.readStream('order-1', { fromRevision: 10 })).toEqual([]);
      expect(await store.readStream('order-1', { maxCount: 0 })).toEqual([]);
    });

    it('reads backwards from a revision, or from the end when none is given, honouring maxCount', async () => {
      const store = getStore();
      await tenEventStream(store);
      expect(revisionsOf(await store.readStream('order-1', { direction: 'backwards' }))).toEqual(range(10).reverse());
      expect(revisionsOf(await store.readStream('order-1', { direction: 'backwards', maxCount: 2 }))).toEqual([9, 8]);
      expect(
        revisionsOf(await store.readStream('order-1', { direction: 'backwards', fromRevision: 6, maxCount: 3 })),
      ).toEqual([6, 5, 4]);
      expect(revisionsOf(await store.readStream('order-1', { direction: 'backwards', fromRevision: 2 }))).toEqual([
        2, 1, 0,
      ]);
      expect(
        revisionsOf(await store.readStream('order-1', { direction: 'backwards', fromRevision: 50, maxCount: 1 })),
      ).toEqual([9]);
    });

    it('returns [] for a stream that does not exist, in both directions', async () => {
      const store = getStore();
      await tenEventStream(store);
      expect(await store.readStream('missing')).toEqual([]);
      expect(await store.readStream('missing', { direction: 'backwards' })).toEqual([]);
      expect(await store.streamRevision('missing')).toBeNull();
      expect(await store.streamRevision('order-1')).toBe(9);
    });

    it('records every field: assigned or given id, stream, revision, position, type, data, metadata, recordedAt', async () => {
      const store = getStore();
      await store.append('order-1', [
        {
          id: 'evt-given',
          type: 'Placed',
          data: { amount: 12.5, items: ['a', 'b'], note: null },
          metadata: { now: '2025-01-01T00:00:00.000Z', actor: 'u-1' },
        },
        { type: 'Noted', data: 'plain string' },
      ]);
      const [placed, noted] = await store.readStream('order-1');
      expect(placed).toMatchObject({
        id: 'evt-given',
        streamId: 'order-1',
        revision: 0,
        position: await P(1),
        type: 'Placed',
        data: { amount: 12.5, items: ['a', 'b'], note: null },
        metadata: { now: '2025-01-01T00:00:00.000Z', actor: 'u-1' },
      });
      expect(noted).toMatchObject({
        streamId: 'order-1',
        revision: 1,
        position: await P(2),
        type: 'Noted',
        data: 'plain string',
        metadata: {},
      });
      expect(typeof noted?.id).toBe('string');
      expect(noted?.id).not.toBe('');
      expect(noted?.id).not.toBe(placed?.id);
      for (const event of [placed, noted])
        expect(new Date(event?.recordedAt ?? '').toISOString()).toBe(event?.recordedAt);
    });

    it('round-trips JSON values of every kind as data', async () => {
      const store = getStore();
      const values: unknown[] = [
        null,
        0,
        -1.5,
        true,
        false,
        '',
        'ünïcödé ✓ 🚀',
        [],
        [1, [2, [3]]],
        {},
        { nested: { deeper: { list: [{ a: 1 }] } } },
      ];
      await store.append(
        'values',
        values.map((data) => anEvent('Value', data)),
      );
      expect((await store.readStream('values')).map((event) => event.data)).toEqual(values);
    });
  });

  describe('readAll', () => {
    it('reads every stream in global order after an exclusive position, honouring maxCount', async () => {
      const store = getStore();
      for (const round of range(3)) {
        for (const stream of ['a', 'b', 'c']) await store.append(stream, [anEvent('Ticked', { round, stream })]);
      }
      const all = await store.readAll();
      expect(positionsOf(all)).toEqual(await Promise.all(range(9).map((index) => P(index + 1))));
      expect(all.map((event) => `${event.streamId}@${event.revision}`)).toEqual([
        'a@0',
        'b@0',
        'c@0',
        'a@1',
        'b@1',
        'c@1',
        'a@2',
        'b@2',
        'c@2',
      ]);

      expect(positionsOf(await store.readAll({ after: await P(4) }))).toEqual(
        await Promise.all([5, 6, 7, 8, 9].map(P)),
      );
      expect(positionsOf(await store.readAll({ after: await P(4), maxCount: 2 }))).toEqual([await P(5), await P(6)]);
      expect(positionsOf(await store.readAll({ maxCount: 3 }))).toEqual([await P(1), await P(2), await P(3)]);
      expect(await store.readAll({ after: await P(9) })).toEqual([]);
      expect(await store.readAll({ after: 0, maxCount: 0 })).toEqual([]);
    });

    it('keeps positions strictly increasing and revisions dense per stream under concurrent appends', async () => {
      const store = getStore();
      await Promise.all(range(10).map((writer) => store.append(`w-${writer % 3}`, [anEvent('A'), anEvent('B')])));
      const all = await store.readAll();
      expect(all).toHaveLength(20);
      expectStrictlyIncreasing(positionsOf(all));
      for (const stream of ['w-0', 'w-1', 'w-2']) {
        const events = await store.readStream(stream);
        expect(revisionsOf(events)).toEqual(range(events.length));
      }
    });
  });
}
