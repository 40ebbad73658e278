import { describe, expect, it } from '@jest/globals';
import { PartitionProgress } from './partition-progress.ts';

describe('PartitionProgress', () => {
  it('commits nothing until the first message taken has finished', () => {
    const progress = new PartitionProgress();
    for (const offset of [10, 11, 12]) progress.take(offset, 0);
    progress.finish(11);
    progress.finish(12);
    expect(progress.pending()).toBeUndefined();
    progress.finish(10);
    expect(progress.pending()).toEqual({ offset: 13, leaderEpoch: 0 });
  });

  it('moves the commit point only over an unbroken run of finished messages', () => {
    const progress = new PartitionProgress();
    for (const offset of [0, 1, 2, 3]) progress.take(offset, 4);
    progress.finish(0);
    progress.finish(2);
    expect(progress.pending()).toEqual({ offset: 1, leaderEpoch: 4 });
    progress.committedUpTo(1);
    expect(progress.pending()).toBeUndefined();
    progress.finish(1);
    expect(progress.pending()?.offset).toBe(3);
    expect(progress.unfinished).toBe(1);
  });

  it('refuses a message it already took, as a re-fetch after a rebalance delivers it', () => {
    const progress = new PartitionProgress();
    expect(progress.take(5, 0)).toBe(true);
    expect(progress.take(5, 0)).toBe(false);
    expect(progress.take(4, 0)).toBe(false);
    expect(progress.take(7, 0)).toBe(true); // gaps (compaction, transaction markers) are fine
    progress.finish(5);
    progress.finish(7);
    expect(progress.pending()?.offset).toBe(8);
  });

  it('keeps its memory bounded over a long run', () => {
    const progress = new PartitionProgress();
    for (let offset = 0; offset < 10_000; offset++) {
      progress.take(offset, 0);
      progress.finish(offset);
    }
    expect(progress.unfinished).toBe(0);
    expect(progress.pending()?.offset).toBe(10_000);
  });
});
