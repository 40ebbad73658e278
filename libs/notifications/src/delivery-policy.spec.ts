import { describe, expect, it } from '@jest/globals';
import { DEFAULT_RETRY, retryDelayMs, RunThrottle } from './delivery-policy.ts';

describe('delivery policy', () => {
  it('backs off exponentially, capped, with half of each wait random', () => {
    const schedule = { maxAttempts: 10, initialDelayMs: 1_000, maxDelayMs: 5_000 };
    expect([1, 2, 3, 4, 5].map((n) => retryDelayMs(n, schedule, () => 0))).toEqual([500, 1_000, 2_000, 2_500, 2_500]);
    expect([1, 2, 3, 4, 5].map((n) => retryDelayMs(n, schedule, () => 1))).toEqual([1_000, 2_000, 4_000, 5_000, 5_000]);
    expect(retryDelayMs(DEFAULT_RETRY.maxAttempts, DEFAULT_RETRY, () => 1)).toBe(DEFAULT_RETRY.maxDelayMs);
  });

  it('lets N sends per key through in a window and says when the next may go', () => {
    const throttle = new RunThrottle({ count: 2, windowMs: 1_000 });
    expect(throttle.admit('a', 0)).toBeUndefined();
    expect(throttle.admit('a', 100)).toBeUndefined();
    expect(throttle.admit('b', 150)).toBeUndefined();
    expect(throttle.admit('a', 200)).toBe(1_000);
    expect(throttle.admit('a', 1_000)).toBeUndefined();
    expect(() => new RunThrottle({ count: 0, windowMs: 1 })).toThrow(/count/);
  });
});
