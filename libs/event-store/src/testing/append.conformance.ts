import { describe, expect, it } from '@jest/globals';
import { EventStoreClosedError } from '../errors.ts';
import type { ExpectedRevision } from '../event-store.port.ts';
import { anEvent, expectConflict, range } from './conformance-kit.ts';
import type { GetStore, Ordinal } from './conformance-kit.ts';

export function describeAppendConformance(getStore: GetStore, P: Ordinal): void {
  describe('append', () => {
    it("'no_stream' succeeds on a new stream and conflicts on an existing one", async () => {
      const store = getStore();
      const result = await store.append('order-1', [anEvent('Placed'), anEvent('Paid')], {
        expectedRevision: 'no_stream',
      });
      expect(result).toEqual({ nextExpectedRevision: 1, position: await P(2) });

      const conflict = await expectConflict(
        store.append('order-1', [anEvent('Placed')], { expectedRevision: 'no_stream' }),
      );
      expect(conflict).toMatchObject({ streamId: 'order-1', expected: 'no_stream', actual: 1 });
      expect(await store.streamRevision('order-1')).toBe(1);
    });

    it('an exact revision succeeds when it equals the last revision and conflicts otherwise', async () => {
      const store = getStore();
      await expectConflict(store.append('order-1', [anEvent('Placed')], { expectedRevision: 0 }));
      await store.append('order-1', [anEvent('Placed'), anEvent('Paid'), anEvent('Packed')]);

      for (const stale of [0, 1, 3]) {
        const conflict = await expectConflict(
          store.append('order-1', [anEvent('Shipped')], { expectedRevision: stale }),
        );
        expect(conflict).toMatchObject({ streamId: 'order-1', expected: stale, actual: 2 });
      }
      const result = await store.append('order-1', [anEvent('Shipped')], { expectedRevision: 2 });
      expect(result).toEqual({ nextExpectedRevision: 3, position: await P(4) });
      expect((await store.readStream('order-1')).map((event) => event.type)).toEqual([
        'Placed',
        'Paid',
        'Packed',
        'Shipped',
      ]);
    });

    it("'any' appends whether or not the stream exists, and is the default", async () => {
      const store = getStore();
      expect(await store.append('order-1', [anEvent('Placed')], { expectedRevision: 'any' })).toEqual({
        nextExpectedRevision: 0,
        position: await P(1),
      });
      expect(await store.append('order-1', [anEvent('Paid')], { expectedRevision: 'any' })).toEqual({
        nextExpectedRevision: 1,
        position: await P(2),
      });
      expect(await store.append('order-1', [anEvent('Packed')])).toEqual({
        nextExpectedRevision: 2,
        position: await P(3),
      });
    });

    it("'stream_exists' conflicts when the stream is missing and succeeds once it exists", async () => {
      const store = getStore();
      const conflict = await expectConflict(
        store.append('order-1', [anEvent('Paid')], { expectedRevision: 'stream_exists' }),
      );
      expect(conflict).toMatchObject({ streamId: 'order-1', expected: 'stream_exists', actual: null });
      expect(await store.streamRevision('order-1')).toBeNull();

      await store.append('order-1', [anEvent('Placed')]);
      expect(await store.append('order-1', [anEvent('Paid')], { expectedRevision: 'stream_exists' })).toEqual({
        nextExpectedRevision: 1,
        position: await P(2),
      });
    });

    it('an empty append records nothing, still checks the expected revision, and returns the current revision', async () => {
      const store = getStore();
      expect(await store.append('order-1', [])).toEqual({ nextExpectedRevision: -1, position: 0 });
      await expectConflict(store.append('order-1', [], { expectedRevision: 'stream_exists' }));
      await store.append('other', [anEvent('Noise')]);
      await store.append('order-1', [anEvent('Placed'), anEvent('Paid')]);
      await store.append('other', [anEvent('Noise')]);

      expect(await store.append('order-1', [], { expectedRevision: 1 })).toEqual({
        nextExpectedRevision: 1,
        position: await P(3),
      });
      await expectConflict(store.append('order-1', [], { expectedRevision: 0 }));
      expect(await store.readAll()).toHaveLength(4);
    });

    it.each<[string, ExpectedRevision, number]>([
      ["'no_stream' on a new stream", 'no_stream', 0],
      ['an exact revision on an existing stream', 0, 1],
    ])(
      'of 20 concurrent appends with %s, exactly one wins and the others conflict',
      async (_label, expectedRevision, seedEvents) => {
        const store = getStore();
        if (seedEvents > 0)
          await store.append(
            'race',
            range(seedEvents).map(() => anEvent('Seeded')),
          );

        const outcomes = await Promise.allSettled(
          range(20).map((writer) =>
            store.append('race', [anEvent('Claimed', { writer }), anEvent('Confirmed', { writer })], {
              expectedRevision,
            }),
          ),
        );

        const winners = range(20).filter((writer) => outcomes[writer]?.status === 'fulfilled');
        expect(winners).toHaveLength(1);
        for (const outcome of outcomes) {
          if (outcome.status === 'rejected') await expectConflict(Promise.reject(outcome.reason));
        }
        const stream = await store.readStream('race');
        expect(stream.map((event) => event.revision)).toEqual(range(seedEvents + 2));
        expect(stream.slice(seedEvents).map((event) => event.data)).toEqual([
          { writer: winners[0] },
          { writer: winners[0] },
        ]);
        expect(await store.readAll()).toHaveLength(seedEvents + 2);
      },
    );

    it('rejects invalid arguments with a TypeError naming the field', async () => {
      const store = getStore();
      await expect(store.append('', [anEvent('Placed')])).rejects.toThrow(
        new TypeError('streamId must be a non-empty string'),
      );
      await expect(store.append('order-1', [{ type: '', data: {} }])).rejects.toThrow(TypeError);
      await expect(store.append('order-1', [anEvent('Placed')], { expectedRevision: -1 })).rejects.toThrow(
        /expectedRevision/,
      );
      await expect(store.readStream('order-1', { maxCount: -1 })).rejects.toThrow(/maxCount/);
      expect(await store.readAll()).toEqual([]);
    });

    it('once closed, rejects every call with EventStoreClosedError; closing again is harmless', async () => {
      const store = getStore();
      await store.append('order-1', [anEvent('Placed')]);
      await store.close();
      const calls: Array<() => Promise<unknown>> = [
        () => store.append('order-1', [anEvent('Paid')]),
        () => store.readStream('order-1'),
        () => store.readAll(),
        () => store.streamRevision('order-1'),
      ];
      for (const call of calls) {
        const error = await call().then(
          () => undefined,
          (reason: unknown) => reason,
        );
        expect(error).toBeInstanceOf(EventStoreClosedError);
        expect((error as EventStoreClosedError).code).toBe('STORE.CLOSED');
      }
      expect(() => store.subscribeToAll({}, () => undefined)).toThrow(EventStoreClosedError);
      await store.close();
    });
  });
}
