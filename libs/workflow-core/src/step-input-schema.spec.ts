/** An operator's edited input meets the step's inputSchema (retry and redrive), or the command is refused with the issues. */
import { describe, expect, it } from '@jest/globals';
import { cancel, given, play, redrive, retryStep, startRun, stepFailed, T0, workflow } from './testing/decider-spec.ts';

const at = (ms: number) => ({ now: T0 + ms });
const SCHEMA = {
  type: 'object',
  required: ['email'],
  properties: { email: { type: 'string', pattern: '@' } },
  additionalProperties: false,
};

describe("a step's inputSchema, for an operator's edited input", () => {
  const def = workflow(
    { a: { worker: 'w', retry: { maxAttempts: 1 }, inputSchema: SCHEMA } },
    { onFailure: 'escalate' },
  );
  const escalated = play([], startRun(def, { email: 'ada@example.com' }), stepFailed('a', at(10)));

  it('refuses a retry whose input does not fit, naming every problem, and takes one that does', () => {
    const refused = given(escalated)
      .when(retryStep('a', { input: { mail: 'ada' }, actor: 'ops:ada', ...at(100) }))
      .thenThrows('RUN.INPUT_INVALID');
    expect(refused.details).toMatchObject({
      stepId: 'a',
      issues: [
        { path: '/input/email', message: 'missing required field "email"' },
        { path: '/input', message: 'must NOT have additional properties' },
      ],
    });
    expect(refused.message).toContain('the input for step "a" does not match its inputSchema');
    given(escalated)
      .when(retryStep('a', { input: { email: 'ada@example.org' }, actor: 'ops:ada', ...at(100) }))
      .then({ type: 'OperatorRetried', data: { stepId: 'a', input: { email: 'ada@example.org' } } }, 'RunResumed', {
        type: 'StepDispatched',
        data: { stepId: 'a', input: { email: 'ada@example.org' } },
      });
  });

  it('leaves a retry without an edited input, and a step without a schema, alone', () => {
    given(escalated)
      .when(retryStep('a', { actor: 'ops:ada', ...at(100) }))
      .then('OperatorRetried', 'RunResumed', 'StepDispatched');
    const open = workflow({ a: { worker: 'w', retry: { maxAttempts: 1 } } }, { onFailure: 'escalate' });
    const parked = play([], startRun(open, {}), stepFailed('a', at(10)));
    given(parked)
      .when(retryStep('a', { input: 42, actor: 'ops:ada', ...at(100) }))
      .then('OperatorRetried', 'RunResumed', 'StepDispatched');
  });

  it('refuses a redrive whose input does not fit', () => {
    const cancelled = play(escalated, cancel({ actor: 'ops:ada', ...at(50) }));
    given(cancelled)
      .when(redrive('a', { input: { email: 'no-at-sign' }, actor: 'ops:ada', reason: 'again', ...at(100) }))
      .thenThrows('RUN.INPUT_INVALID');
  });
});
