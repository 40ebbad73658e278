import { describe, expect, it } from '@jest/globals';
import { EventStoreClosedError } from '../errors.ts';
import type { ReadRow, ReadRowStore } from '../read-rows.port.ts';
import { MAX_READ_ROWS_PER_LIST } from '../read-rows.port.ts';
import { anEvent, range } from './conformance-kit.ts';
import type { GetStore } from './conformance-kit.ts';

const TABLE = 'runs';

function aRow(
  id: string,
  position: number,
  labels: Partial<Pick<ReadRow, 'tenant' | 'status' | 'kind'>> = {},
): ReadRow {
  return { id, position, tenant: 'acme', status: 'completed', kind: 'order', body: `{"id":"${id}"}`, ...labels };
}

async function rejection(pending: Promise<unknown>): Promise<unknown> {
  return pending.then(
    () => undefined,
    (reason: unknown) => reason,
  );
}

const ids = (rows: readonly ReadRow[]): string[] => rows.map((row) => row.id);

export function describeReadRowsConformance(getStore: GetStore): void {
  const rows = (): ReadRowStore => {
    const capability = getStore().readRows;
    if (capability === undefined)
      throw new Error('the store has no read rows: pass { readRows: false } if the adapter cannot keep them');
    return capability;
  };

  describe('read rows', () => {
    it('an id never put gets undefined, and an empty table lists nothing', async () => {
      expect(await rows().get(TABLE, 'nope')).toBeUndefined();
      expect(await rows().list(TABLE, { limit: 10 })).toEqual([]);
    });

    it('gets a row as it was put, text included', async () => {
      const row = { ...aRow('r-1', 7), body: '{"note":"é€𝄞 \\"quoted\\"\\n"}', tenant: 'ténant ✓' };
      await rows().put(TABLE, [row]);
      expect(await rows().get(TABLE, 'r-1')).toEqual(row);
    });

    it('lists newest position first, at most limit, and pages with beforePosition', async () => {
      await rows().put(TABLE, [aRow('a', 3), aRow('b', 9), aRow('c', 5), aRow('d', 1)]);
      expect(ids(await rows().list(TABLE, { limit: 10 }))).toEqual(['b', 'c', 'a', 'd']);
      expect(ids(await rows().list(TABLE, { limit: 2 }))).toEqual(['b', 'c']);
      expect(ids(await rows().list(TABLE, { limit: 2, beforePosition: 5 }))).toEqual(['a', 'd']);
    });

    it('filters by every label given', async () => {
      await rows().put(TABLE, [
        aRow('a', 1, { tenant: 't1', status: 'completed', kind: 'k1' }),
        aRow('b', 2, { tenant: 't1', status: 'failed', kind: 'k1' }),
        aRow('c', 3, { tenant: 't2', status: 'completed', kind: 'k1' }),
        aRow('d', 4, { tenant: 't1', status: 'completed', kind: 'k2' }),
      ]);
      expect(ids(await rows().list(TABLE, { tenant: 't1', limit: 10 }))).toEqual(['d', 'b', 'a']);
      expect(ids(await rows().list(TABLE, { status: 'completed', limit: 10 }))).toEqual(['d', 'c', 'a']);
      expect(ids(await rows().list(TABLE, { kind: 'k1', limit: 10 }))).toEqual(['c', 'b', 'a']);
      expect(ids(await rows().list(TABLE, { tenant: 't1', status: 'completed', kind: 'k1', limit: 10 }))).toEqual([
        'a',
      ]);
      expect(await rows().list(TABLE, { tenant: 't3', limit: 10 })).toEqual([]);
    });

    it('a put replaces a row at the same or a higher position, and never moves one back', async () => {
      await rows().put(TABLE, [aRow('r', 5, { status: 'completed' })]);
      await rows().put(TABLE, [aRow('r', 8, { status: 'failed' })]);
      expect(await rows().get(TABLE, 'r')).toEqual(aRow('r', 8, { status: 'failed' }));
      // A slower process projecting the same log writes what it saw earlier: the newer row stays.
      await rows().put(TABLE, [aRow('r', 6, { status: 'cancelled' })]);
      expect(await rows().get(TABLE, 'r')).toEqual(aRow('r', 8, { status: 'failed' }));
      await rows().put(TABLE, [aRow('r', 8, { status: 'compensated' })]);
      expect((await rows().get(TABLE, 'r'))?.status).toBe('compensated');
      expect(ids(await rows().list(TABLE, { limit: 10 }))).toEqual(['r']);
    });

    it('keeps tables apart', async () => {
      await rows().put('runs', [aRow('same', 1)]);
      await rows().put('other', [aRow('same', 2, { status: 'failed' })]);
      expect((await rows().get('runs', 'same'))?.status).toBe('completed');
      expect(ids(await rows().list('other', { limit: 10 }))).toEqual(['same']);
      expect(await rows().get('third', 'same')).toBeUndefined();
    });

    it('puts thousands of rows in one call', async () => {
      const many = range(3_000).map((index) => aRow(`run-${index}`, index + 1));
      await rows().put(TABLE, many);
      const newest = await rows().list(TABLE, { limit: MAX_READ_ROWS_PER_LIST });
      expect(newest).toHaveLength(3_000);
      expect(newest[0]).toEqual(aRow('run-2999', 3_000));
    });

    it('refuses a bad put with a TypeError naming the field, and writes none of its rows', async () => {
      const refusals: [unknown, RegExp][] = [
        [[aRow('ok', 1), { ...aRow('bad', 2), position: -1 }], /rows\[1\]\.position/],
        [[aRow('ok', 1), { ...aRow('bad', 2), position: 1.5 }], /rows\[1\]\.position/],
        [[aRow('ok', 1), { ...aRow('', 2) }], /rows\[1\]\.id/],
        [[aRow('ok', 1), { ...aRow('x'.repeat(201), 2) }], /rows\[1\]\.id/],
        [[aRow('ok', 1), { ...aRow('bad', 2), body: 'nul \u0000' }], /rows\[1\]\.body/],
        [[aRow('ok', 1), { ...aRow('bad', 2), tenant: 'lone \ud800' }], /rows\[1\]\.tenant/],
        [[aRow('ok', 1), { ...aRow('bad', 2), status: 7 }], /rows\[1\]\.status/],
        [[aRow('ok', 1), null], /rows\[1\] must be an object/],
        ['not rows', /must be an array/],
      ];
      for (const [bad, message] of refusals) {
        const error = await rejection(rows().put(TABLE, bad as ReadRow[]));
        expect(error).toBeInstanceOf(TypeError);
        expect((error as Error).message).toMatch(message);
      }
      expect(await rows().get(TABLE, 'ok')).toBeUndefined();
      expect(await rejection(rows().put('', [aRow('ok', 1)]))).toBeInstanceOf(TypeError);
    });

    it('refuses a bad query or id with a TypeError naming it', async () => {
      for (const limit of [0, -1, 1.5, MAX_READ_ROWS_PER_LIST + 1, Number.NaN]) {
        const error = await rejection(rows().list(TABLE, { limit }));
        expect((error as Error).message).toMatch(/limit/);
      }
      expect(((await rejection(rows().list(TABLE, { limit: 1, beforePosition: -3 }))) as Error).message).toMatch(
        /beforePosition/,
      );
      expect(((await rejection(rows().list(TABLE, { limit: 1, tenant: '' }))) as Error).message).toMatch(/tenant/);
      expect(await rejection(rows().get(TABLE, ''))).toBeInstanceOf(TypeError);
    });

    it('writing rows appends nothing to the log', async () => {
      await getStore().append('s', [anEvent('Happened')]);
      await rows().put(TABLE, [aRow('r', 1)]);
      expect(await getStore().readAll()).toHaveLength(1);
    });

    it('fails with EventStoreClosedError once the store is closed', async () => {
      const store = getStore();
      const capability = rows();
      await store.close();
      expect(await rejection(capability.put(TABLE, [aRow('r', 1)]))).toBeInstanceOf(EventStoreClosedError);
      expect(await rejection(capability.get(TABLE, 'r'))).toBeInstanceOf(EventStoreClosedError);
      expect(await rejection(capability.list(TABLE, { limit: 1 }))).toBeInstanceOf(EventStoreClosedError);
    });
  });
}

export function describeNoReadRows(getStore: GetStore): void {
  describe('read rows', () => {
    it('are absent, so read models keep every row in memory', () => {
      expect(getStore().readRows).toBeUndefined();
    });
  });
}
