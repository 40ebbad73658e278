import { describe, expect, it } from '@jest/globals';
import { compileDefinition, DEFAULT_GOVERNANCE_TIMEOUT_MS, definitionIssues } from './index.ts';

function def(steps: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { id: 'wf', version: 1, steps, ...extra };
}

describe('governanceTimeout', () => {
  it('defaults to 60s for every task; defaults.governanceTimeout replaces that, and a step overrides both', () => {
    expect(DEFAULT_GOVERNANCE_TIMEOUT_MS).toBe(60_000);
    const plain = compileDefinition(def({ a: { worker: 'w', sideEffect: true }, gate: { type: 'approval' } }));
    expect(plain.steps.a?.governanceTimeoutMs).toBe(60_000);
    // governance never checks an approval step, so it has no deadline for it
    expect(plain.steps.gate?.governanceTimeoutMs).toBeNull();
    const tuned = compileDefinition(
      def(
        { a: { worker: 'w', sideEffect: true }, b: { worker: 'w', sideEffect: true, governanceTimeout: '2m30s' } },
        { defaults: { governanceTimeout: '10s' } },
      ),
    );
    expect([tuned.steps.a?.governanceTimeoutMs, tuned.steps.b?.governanceTimeoutMs]).toEqual([10_000, 150_000]);
  });

  it('reports a bad or zero duration, at the step or in defaults', () => {
    expect(definitionIssues(def({ a: { worker: 'w', sideEffect: true, governanceTimeout: 'a minute' } }))).toEqual([
      {
        path: '/steps/a/governanceTimeout',
        message: 'bad duration "a minute": write e.g. 500ms, 30s, 5m, 48h or 1h30m',
      },
    ]);
    expect(definitionIssues(def({ a: { worker: 'w', sideEffect: true, governanceTimeout: '0s' } }))).toEqual([
      { path: '/steps/a/governanceTimeout', message: 'governanceTimeout must be longer than 0' },
    ]);
    expect(
      definitionIssues(def({ a: { worker: 'w' } }, { defaults: { governanceTimeout: '0ms', timeout: '0s' } })),
    ).toEqual([
      { path: '/defaults/timeout', message: 'timeout must be longer than 0' },
      { path: '/defaults/governanceTimeout', message: 'governanceTimeout must be longer than 0' },
    ]);
  });

  it('rejects a deadline that can never apply, on an approval step; any task step may have one (governance checks every step when it is configured)', () => {
    expect(
      definitionIssues(
        def({ gate: { type: 'approval', governanceTimeout: '1m' }, t: { worker: 'w', governanceTimeout: '1m' } }),
      ),
    ).toEqual([
      {
        path: '/steps/gate/governanceTimeout',
        message: 'an approval step is not checked by governance, so it has no governanceTimeout',
      },
    ]);
  });
});
