import { describe, expect, it } from '@jest/globals';
import { KeyLanes } from './key-lanes.ts';

describe('KeyLanes', () => {
  it('hands out one message per lane at a time, in arrival order within the lane', () => {
    const lanes = new KeyLanes<string>();
    lanes.push('a', 'a1');
    lanes.push('a', 'a2');
    lanes.push('b', 'b1');
    expect(lanes.take()).toEqual({ lane: 'a', item: 'a1' });
    expect(lanes.take()).toEqual({ lane: 'b', item: 'b1' });
    expect(lanes.take()).toBeUndefined(); // a2 waits for a1
    lanes.release('a');
    expect(lanes.take()).toEqual({ lane: 'a', item: 'a2' });
    expect(lanes.size).toBe(0);
  });

  it('discards waiting messages but leaves a running lane busy', () => {
    const lanes = new KeyLanes<{ partition: number }>();
    lanes.push('p0', { partition: 0 });
    lanes.push('p0', { partition: 0 });
    lanes.push('p1', { partition: 1 });
    expect(lanes.take()?.lane).toBe('p0');
    lanes.discard((item) => item.partition === 0);
    expect(lanes.size).toBe(1);
    lanes.push('p0', { partition: 0 });
    expect(lanes.take()?.lane).toBe('p1'); // p0 is still running
    expect(lanes.take()).toBeUndefined();
    lanes.release('p0');
    expect(lanes.take()?.lane).toBe('p0');
  });
});
