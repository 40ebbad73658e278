/** Resource locks on the run's side: which decisions release a step's locks. */
import { describe, expect, it } from '@jest/globals';
import { decide } from './decide.ts';
import type { Effect } from './effects.ts';
import { fold } from './index.ts';
import type { Command, WorkflowEvent } from './messages.ts';
import { lockEffects } from './step-locks.ts';
import { cancel, startRun, stepCompleted, stepFailed, workflow } from './testing/decider-spec.ts';

/** The ReleaseLocks effects of each command, decided in turn on what the ones before it left. */
function releasesOf(...commands: Command[]): Effect[][] {
  const events: WorkflowEvent[] = [];
  return commands.map((command) => {
    const before = fold(events);
    const decision = decide(command, before);
    events.push(...decision.events);
    expect(lockEffects(before, fold(events))).toEqual(decision.effects.filter((e) => e.type === 'ReleaseLocks'));
    return decision.effects.filter((e) => e.type === 'ReleaseLocks');
  });
}

const release = (stepId: string): Effect => ({ type: 'ReleaseLocks', data: { stepId, phase: 'execute' } });
const retryable = { error: { retryable: true } };

describe('lock releases', () => {
  const plain = workflow({ a: { worker: 'w' }, b: { worker: 'w', needs: ['a'] } });
  const locked = workflow({
    a: { worker: 'w', locks: [{ name: 'account-${{ input.account }}' }] },
    b: { worker: 'w', needs: ['a'] },
  });
  const input = { account: '7' };

  it('asks for none in a run whose definition declares no locks, whatever the decision', () => {
    const all = [
      ...releasesOf(startRun(plain, input), stepCompleted('a'), stepFailed('b', retryable), cancel()),
      ...releasesOf(startRun(plain, input), stepFailed('a', { attempt: 1, error: { retryable: false } })),
    ];
    expect(all.flat()).toEqual([]);
  });

  it('releases the locks of a step that declares them when it completes, and of no other step', () => {
    expect(releasesOf(startRun(locked, input), stepCompleted('a'), stepCompleted('b'))).toEqual([
      [],
      [release('a')],
      [],
    ]);
  });

  it('keeps them across a retry, and releases them when the last attempt fails', () => {
    expect(releasesOf(startRun(locked, input), stepFailed('a', retryable))).toEqual([[], []]);
    const once = workflow({ a: { worker: 'w', locks: [{ name: 'account-7' }], retry: { maxAttempts: 1 } } });
    expect(releasesOf(startRun(once, input), stepFailed('a', retryable))).toEqual([[], [release('a')]]);
  });

  it('releases them when the run is cancelled while the step holds them', () => {
    expect(releasesOf(startRun(locked, input), cancel())).toEqual([[], [release('a')]]);
  });
});
