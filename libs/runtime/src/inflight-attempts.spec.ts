import { describe, expect, it } from '@jest/globals';
import { InflightAttempts } from './inflight-attempts.ts';

const entry = { worker: 'w', probe: null };

describe('the attempts in flight, found by run', () => {
  it("given attempts of several runs, when a run's are asked for, then only that run's come back", () => {
    const attempts = new InflightAttempts();
    for (const key of ['r1/run/a/1', 'r1/compensate/a/2', 'r2/run/a/1', 'r10/run/a/1']) attempts.set(key, entry);
    expect(attempts.ofRun('r1').sort()).toEqual(['r1/compensate/a/2', 'r1/run/a/1']);
    expect(attempts.ofRun('r1/run')).toEqual(['r1/run/a/1']);
    expect(attempts.ofRun('r3')).toEqual([]);
  });

  it('given a run id holding a slash, when its attempts are asked for, then the whole id is matched', () => {
    const attempts = new InflightAttempts();
    for (const key of ['parent/child/run/a/1', 'parent/other/run/a/1', 'parent/run/a/1']) attempts.set(key, entry);
    expect(attempts.ofRun('parent/child')).toEqual(['parent/child/run/a/1']);
    expect(attempts.ofRun('parent').sort()).toEqual(['parent/child/run/a/1', 'parent/other/run/a/1', 'parent/run/a/1']);
  });

  it('given deleted attempts, when the run is asked for, then they are gone, and a missing key deletes nothing', () => {
    const attempts = new InflightAttempts();
    attempts.set('r1/run/a/1', entry);
    attempts.set('r1/run/b/1', entry);
    attempts.delete('r1/run/a/1');
    attempts.delete('r1/run/zzz/9');
    expect(attempts.has('r1/run/a/1')).toBe(false);
    expect(attempts.get('r1/run/b/1')).toBe(entry);
    expect(attempts.ofRun('r1')).toEqual(['r1/run/b/1']);
    for (const key of attempts.ofRun('r1')) attempts.delete(key);
    expect(attempts.ofRun('r1')).toEqual([]);
  });
});
