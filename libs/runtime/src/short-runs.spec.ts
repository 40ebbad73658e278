import { describe, expect, it } from '@jest/globals';
import { ShortRuns } from './short-runs.ts';

describe('ShortRuns: which runs are loaded without asking for a snapshot', () => {
  it('knows a run folded whole with fewer events than the snapshot interval, and forgets it past it or at its end', () => {
    const runs = new ShortRuns(100);
    expect(runs.isShort('a')).toBe(false);
    runs.seen('a', 7, false);
    expect(runs.isShort('a')).toBe(true);
    runs.seen('a', 100, false);
    expect(runs.isShort('a')).toBe(false);
    runs.seen('b', 12, false);
    runs.seen('b', 14, true);
    expect(runs.isShort('b')).toBe(false);
    expect(runs.size).toBe(0);
  });

  it('remembers at most `max` runs, forgetting the one seen longest ago', () => {
    const runs = new ShortRuns(100, 2);
    runs.seen('a', 1, false);
    runs.seen('b', 1, false);
    runs.seen('a', 2, false);
    runs.seen('c', 1, false);
    expect(['a', 'b', 'c'].map((id) => runs.isShort(id))).toEqual([true, false, true]);
  });
});
