import { describe, expect, it } from '@jest/globals';
import { validate, version } from 'uuid';
import { newRunId } from './run-ids.ts';

describe('new run ids', () => {
  it('are version 7 UUIDs, all different, across more than one pool of random bytes', () => {
    const ids = Array.from({ length: 1_000 }, () => newRunId());
    for (const id of ids) {
      expect(validate(id)).toBe(true);
      expect(version(id)).toBe(7);
    }
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('begin with the time, so ids made a millisecond apart sort in the order they were made', async () => {
    const first = newRunId();
    await new Promise((resolve) => setTimeout(resolve, 2));
    const second = newRunId();
    expect(first < second).toBe(true);
    const millis = Number.parseInt(second.replaceAll('-', '').slice(0, 12), 16);
    expect(Math.abs(millis - Date.now())).toBeLessThan(60_000);
  });
});
