import { describe, expect, it } from '@jest/globals';
import { compileDefinition, definitionIssues } from './index.ts';

const def = (wait: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  id: 'wf',
  version: 1,
  steps: {
    send: { worker: 'mail' },
    signed: { type: 'event', needs: ['send'], event: 'contract.signed', match: '${{ input.contractId }}', ...wait },
    ...extra,
  },
});

describe('an event step', () => {
  it('compiles to its wait, its timeout and what the timeout does (fail by default)', () => {
    const compiled = compileDefinition(def({ timeout: '2h', onTimeout: 'skip' }));
    expect(compiled.steps.signed).toMatchObject({
      type: 'event',
      worker: null,
      timeoutMs: 7_200_000,
      heartbeatTimeoutMs: null,
      governanceTimeoutMs: null,
      onTimeout: 'skip',
      wait: { event: 'contract.signed', match: 'input.contractId' },
    });
    expect(compileDefinition(def({})).steps.signed).toMatchObject({ timeoutMs: null, onTimeout: 'fail' });
  });

  it('leaves other steps as they were compiled before event steps existed', () => {
    const send = compileDefinition(def({})).steps.send;
    expect(send && 'wait' in send).toBe(false);
  });

  it('needs event and match, each named', () => {
    expect(definitionIssues(def({ event: undefined, match: undefined }))).toEqual([
      { path: '/steps/signed/event', message: 'an event step needs event: the name of the event it waits for' },
      {
        path: '/steps/signed/match',
        message: 'an event step needs match: the key an event must carry, e.g. ${{ input.orderId }}',
      },
    ]);
  });

  it('takes no worker, input, compensation, retry or gate fields', () => {
    const issues = definitionIssues(
      def({ worker: 'w', input: { a: 1 }, compensate: { action: 'undo' }, retry: { maxAttempts: 2 } }),
    );
    expect(issues.map((i) => i.path)).toEqual([
      '/steps/signed/worker',
      '/steps/signed/input',
      '/steps/signed/compensate',
      '/steps/signed/retry',
    ]);
    expect(issues[0]?.message).toBe('an event step waits for an event and takes no worker');
  });

  it('refuses event, match and onTimeout: skip on other steps', () => {
    const issues = definitionIssues({
      id: 'wf',
      version: 1,
      steps: { a: { worker: 'w', event: 'x', match: 'input.k', onTimeout: 'skip' } },
    });
    expect(issues).toEqual(
      expect.arrayContaining([
        { path: '/steps/a/event', message: 'only an event step (type: event) takes event' },
        { path: '/steps/a/match', message: 'only an event step (type: event) takes match' },
        { path: '/steps/a/onTimeout', message: 'onTimeout: skip is only for an event step (type: event)' },
      ]),
    );
  });

  it('checks match like any expression: syntax, unknown steps, steps not upstream', () => {
    expect(definitionIssues(def({ match: '${{ input.( }}' }))[0]?.path).toBe('/steps/signed/match');
    expect(definitionIssues(def({ match: "${{ steps['nope'].output.id }}" }))[0]?.message).toMatch(
      /unknown step "nope"/,
    );
    expect(definitionIssues(def({ match: "${{ steps['later'].output.id }}" }, { later: { worker: 'w' } }))).toEqual([
      {
        path: '/steps/signed/match',
        message: 'expression reads step "later", which is not upstream of "signed": add it to needs',
      },
    ]);
  });

  it('bounds the event name, and refuses a bad timeout or onTimeout', () => {
    expect(definitionIssues(def({ event: 'x'.repeat(201) }))[0]?.path).toBe('/steps/signed/event');
    expect(definitionIssues(def({ event: '' }))[0]?.path).toBe('/steps/signed/event');
    expect(definitionIssues(def({ timeout: '0s' }))).toEqual([
      { path: '/steps/signed/timeout', message: 'timeout must be longer than 0' },
    ]);
    expect(definitionIssues(def({ onTimeout: 'retry' }))[0]).toEqual({
      path: '/steps/signed/onTimeout',
      message: 'must be one of "escalate", "fail", "skip"',
    });
  });
});
