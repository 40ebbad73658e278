import { describe, expect, it } from '@jest/globals';
import { EventStoreUnavailableError } from '@orchestron/event-store';
import { DomainError } from '@orchestron/workflow-core';
import type { Timer } from '@orchestron/workflow-core';
import { fireTimer } from './timer-firing.ts';
import type { TimerTarget } from './timer-firing.ts';

const timer = { id: 'charge:2:retry', dueAt: 0 } as unknown as Timer;
const fast = { retries: Number.POSITIVE_INFINITY, minTimeout: 1, maxTimeout: 2, factor: 1, randomize: false };

/** A target whose fire fails as told, recording what was logged. Pure code under test: no store, no clock. */
function target(failures: readonly unknown[], owns: (calls: number) => boolean = () => true) {
  const logged: { level: string; msg: string }[] = [];
  const log = (level: string) => (msg: string) => void logged.push({ level, msg });
  const t = {
    calls: 0,
    logged,
    logger: { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') },
    still: () => owns(t.calls),
    async fire() {
      const failure = failures[t.calls++];
      if (failure !== undefined) throw failure;
    },
  };
  return t satisfies TimerTarget;
}

describe('firing a timer', () => {
  it('given the store away for a while (more attempts than a message gets), fires once it is back', async () => {
    const t = target(Array.from({ length: 12 }, () => new EventStoreUnavailableError('connection terminated')));
    await fireTimer(t, 'r-1', timer, fast);
    expect(t.calls).toBe(13);
    expect(t.logged.filter((l) => l.level === 'warn')).toHaveLength(12);
    expect(t.logged.filter((l) => l.level === 'error')).toEqual([]);
  });

  it('does not repeat what cannot succeed by repeating it: one attempt, one error logged', async () => {
    const t = target([new DomainError('RUN.NOT_FOUND', 'run r-2 does not exist')]);
    await fireTimer(t, 'r-2', timer, fast);
    expect(t.calls).toBe(1);
    expect(t.logged).toEqual([{ level: 'error', msg: 'timer failed' }]);
  });

  it('stops trying, quietly, once this instance no longer owns the run (the new owner arms it from the state)', async () => {
    const failures = Array.from({ length: 50 }, () => new EventStoreUnavailableError('connection terminated'));
    const t = target(failures, (calls) => calls < 3);
    await fireTimer(t, 'r-3', timer, fast);
    expect(t.calls).toBe(3);
    expect(t.logged.filter((l) => l.level === 'error')).toEqual([]);
  });
});
