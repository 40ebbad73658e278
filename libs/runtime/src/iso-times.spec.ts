import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { epochOf, isoOf } from './iso-times.ts';

const LAST_MS = Date.UTC(10000, 0, 1);

describe('iso times', () => {
  it('write exactly what toISOString writes, and read it back', () => {
    const days = new Map<number, string>();
    const starts = new Map<string, number>();
    fc.assert(
      fc.property(fc.integer({ min: 0, max: LAST_MS - 1 }), (ms) => {
        const iso = isoOf(ms, days);
        expect(iso).toBe(new Date(ms).toISOString());
        expect(epochOf(iso, starts)).toBe(ms);
      }),
      { numRuns: 2000 },
    );
  });

  it.each([
    '2026-11-01T00:00:00Z',
    '2026-11-01T00:00:00.000+00:00',
    '2026-02-30T00:00:00.000Z',
    '2026-13-01T00:00:00.000Z',
    '2026-11-01T24:00:00.000Z',
    '2026-11-01T23:60:00.000Z',
    '2026-11-01T23:59:60.000Z',
    '1969-12-31T23:59:59.999Z',
    '+012026-11-01T00:00:00.000Z',
    'not a time at all, but 24',
  ])('leave %s as text: it would not come back the same', (text) => {
    expect(epochOf(text, new Map())).toBeUndefined();
  });
});
