/** Resource locks on the run's side: which decisions release a step's locks, and a lock name that is not a name. */
import { describe, expect, it } from '@jest/globals';
import { MAX_LOCK_NAME } from '@orchestron/definitions';
import type { CompiledDefinition } from '@orchestron/definitions';
import { decide } from './decide.ts';
import type { Effect } from './effects.ts';
import { fold } from './index.ts';
import type { Command, WorkflowEvent } from './messages.ts';
import { lockEffects } from './step-locks.ts';
import { cancel, given, ofType, startRun, stepCompleted, stepFailed, workflow } from './testing/decider-spec.ts';

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

describe('a lock name that cannot be a name fails its step, and the decider goes on', () => {
  const million = Array.from({ length: 1_000_000 }, (_, i) => i);
  const withLock = (name: string): CompiledDefinition =>
    workflow({ a: { worker: 'w', locks: [{ name: 'first' }, { name }] } });

  /** The run fails the step with this error, sends nothing, and ends. */
  const failsWith = (name: string, input: unknown, code: string, message: RegExp) => {
    const { produced } = given()
      .when(startRun(withLock(name), input))
      .thenIncludes(
        'RunStarted',
        { type: 'StepFailed', data: { stepId: 'a', error: { code, retryable: false } } },
        'RunFailed',
      );
    expect(ofType(produced, 'StepDispatched')).toEqual([]);
    const [failed] = ofType(produced, 'StepFailed');
    expect(failed?.data.error.message).toMatch(message);
    // The message names the problem; it never echoes what the template rendered.
    expect(failed?.data.error.message.length).toBeLessThan(300);
  };

  it(`fails EXPRESSION.ERROR when the name renders longer than ${MAX_LOCK_NAME} characters`, () => {
    failsWith(
      'account-${{ input.id }}',
      { id: 'x'.repeat(MAX_LOCK_NAME) },
      'EXPRESSION.ERROR',
      new RegExp(
        `^locks: locks\\[1\\]\\.name rendered to a name of ${MAX_LOCK_NAME + 8} characters; the limit is ${MAX_LOCK_NAME}$`,
      ),
    );
  });

  it(`takes a name of exactly ${MAX_LOCK_NAME} characters`, () => {
    const name = 'x'.repeat(MAX_LOCK_NAME);
    given()
      .when(startRun(withLock('${{ input.id }}'), { id: name }))
      .thenIncludes({ type: 'StepDispatched', data: { stepId: 'a', locks: [{ name: 'first' }, { name }] } });
  });

  it.each([
    ['a number', '${{ input.n }}', { n: 42 }, /^locks: locks\[1\]\.name must render to a string, not 42$/],
    ['null', '${{ input.o }}', { o: null }, /^locks: locks\[1\]\.name must render to a string, not null$/],
    ['a map', '${{ input }}', { o: 1 }, /^locks: locks\[1\]\.name must render to a string, not a map of size 1$/],
    [
      'a million-element list of the input, without echoing it',
      '${{ input.items }}',
      { items: million },
      /^locks: locks\[1\]\.name must render to a string, not a list of length 1000000$/,
    ],
    ['an empty string', '${{ input.id }}', { id: '' }, /^locks: locks\[1\]\.name rendered to an empty name$/],
    ['a missing field', 'account-${{ input.missing }}', {}, /^locks: cannot evaluate "input\.missing": /],
  ])('fails EXPRESSION.ERROR when the name renders to %s', (_what, name, input, message) => {
    failsWith(name, input, 'EXPRESSION.ERROR', message);
  });

  const digits = '[0,1,2,3,4,5,6,7,8,9]';
  const nested = `${digits}.map(a, ${digits}.map(b, ${digits}.map(c, ${digits}.map(d, ${digits}.map(e, a)))))`;
  it.each([
    ['the whole name', '${{ input.items.map(x, x * 2).size() }}', { items: million }],
    ['a part of the name', 'account-${{ input.items.map(x, x * 2) }}', { items: million }],
    ['the expression alone (100,000 elements from literals)', `\${{ ${nested} }}`, {}],
  ])('fails EXPRESSION.BUDGET_EXCEEDED when %s goes over the expression budget', (_where, name, input) => {
    failsWith(
      name,
      input,
      'EXPRESSION.BUDGET_EXCEEDED',
      /^locks: the expression ".*" exceeded its budget of \d+ operations$/,
    );
  });
});
