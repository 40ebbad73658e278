import { describe, expect, it } from '@jest/globals';
import { anEvent, range } from './conformance-kit.ts';
import type { GetStore } from './conformance-kit.ts';

const ONE_MEGABYTE = 1024 * 1024;
const BATCH = 1_000;

/** Deterministic text mixing one-, two-, three- and four-byte UTF-8 characters and JSON escapes. */
function megabyteOfText(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789 "\\\n\té€𝄞✓';
  let text = '';
  for (let index = 0; text.length < ONE_MEGABYTE; index += 1) text += alphabet[(index * 7919) % alphabet.length];
  return text.slice(0, ONE_MEGABYTE);
}

export function describeScaleConformance(getStore: GetStore, streams: number): void {
  describe('scale', () => {
    it('round-trips an event carrying 1 MB of data intact', async () => {
      const store = getStore();
      const data = { blob: megabyteOfText(), rows: range(1000).map((index) => ({ index, even: index % 2 === 0 })) };
      await store.append('large', [anEvent('Large', data)]);
      const [read] = await store.readStream('large');
      expect(read?.data).toEqual(data);
      const [fromAll] = await store.readAll();
      expect((fromAll?.data as { blob: string } | undefined)?.blob).toBe(data.blob);
    });

    it(`holds ${streams} streams of one event each, appended concurrently in batches`, async () => {
      const store = getStore();
      for (let start = 0; start < streams; start += BATCH) {
        const batch = range(Math.min(BATCH, streams - start)).map((offset) => start + offset);
        const results = await Promise.all(
          batch.map((index) =>
            store.append(`stream-${index}`, [anEvent('Created', { index })], { expectedRevision: 'no_stream' }),
          ),
        );
        expect(results.every((result) => result.nextExpectedRevision === 0)).toBe(true);
      }

      const unreadable: number[] = [];
      for (const index of range(streams)) {
        const events = await store.readStream(`stream-${index}`);
        if (events.length !== 1 || (events[0]?.data as { index?: number } | undefined)?.index !== index)
          unreadable.push(index);
      }
      expect(unreadable).toEqual([]);
      const all = await store.readAll();
      expect(all).toHaveLength(streams);
      expect(new Set(all.map((event) => event.streamId)).size).toBe(streams);
    });
  });
}
