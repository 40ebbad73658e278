import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import {
  compileDefinition,
  definitionIssues,
  DefinitionInvalidError,
  evaluateExpression,
  formatDuration,
  parseDefinitionText,
  parseDuration,
  referencedSteps,
  renderTemplate,
  runInputIssues,
} from './index.ts';
import type { DefinitionIssue, ExpressionContext } from './index.ts';

const ONBOARDING = new URL('../../../examples/employee-onboarding.yaml', import.meta.url);

/** A minimal valid definition with the given steps. */
function def(steps: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { id: 'wf', version: 1, steps, ...extra };
}

function issuesAt(issues: readonly DefinitionIssue[], path: string): string[] {
  return issues.filter((i) => i.path === path).map((i) => i.message);
}

function invalid(thunk: () => unknown): DefinitionInvalidError {
  try {
    thunk();
  } catch (error) {
    if (error instanceof DefinitionInvalidError) return error;
    throw error;
  }
  throw new Error('expected a DefinitionInvalidError, but nothing was thrown');
}

describe('examples/employee-onboarding.yaml', () => {
  const compiled = compileDefinition(parseDefinitionText(readFileSync(ONBOARDING, 'utf8'), 'employee-onboarding.yaml'));

  it('compiles, with every step in dependency order', () => {
    expect(compiled).toMatchObject({ id: 'employee-onboarding', version: 1, onFailure: 'compensate' });
    expect(compiled.order).toEqual([
      'create-account',
      'assign-permissions',
      'send-welcome',
      'create-workspace',
      'budget-approval',
      'notify-team',
    ]);
  });

  it('normalises defaults, per-step overrides, gates and joins', () => {
    const steps = compiled.steps;
    // Given the defaults block (200ms..2s backoff, 10s timeout, 3s heartbeat), each task inherits it
    expect(steps['create-account']).toMatchObject({
      type: 'task',
      worker: 'identity',
      sideEffect: true,
      timeoutMs: 10_000,
      heartbeatTimeoutMs: 3_000,
      retry: { maxAttempts: 3, backoff: 'exponential', initialDelayMs: 200, maxDelayMs: 2_000, jitter: 'full' },
      compensate: { worker: 'identity', action: 'delete-account', timeoutMs: 10_000 },
    });
    // and an override replaces only what it names
    expect(steps['send-welcome']?.retry).toMatchObject({ maxAttempts: 5, initialDelayMs: 200, maxDelayMs: 2_000 });
    expect(steps['budget-approval']).toMatchObject({
      type: 'approval',
      worker: null,
      assignees: ['role:finance'],
      onTimeout: 'escalate',
      timeoutMs: null,
      heartbeatTimeoutMs: null,
      when: 'has(input.manager) && input.manager == true',
    });
    expect(steps['notify-team']).toMatchObject({
      join: { kind: 'all_success' },
      needs: ['assign-permissions', 'send-welcome', 'create-workspace', 'budget-approval'],
    });
  });

  it('checks run input against its input schema', () => {
    expect(runInputIssues(compiled, { email: 'ada@example.com' })).toEqual([]);
    expect(runInputIssues(compiled, {})).toEqual([{ path: '/input/email', message: 'missing required field "email"' }]);
    expect(runInputIssues(compiled, { email: 42 })).toEqual([{ path: '/input/email', message: 'must be string' }]);
    expect(runInputIssues(compiled, { email: 'ada@example.com', simulate: { 'send-welcome': 'explode' } })).toEqual([
      { path: '/input/simulate/send-welcome', message: 'must be equal to one of the allowed values' },
    ]);
  });
});

describe('semantic checks name the path and the reason', () => {
  it('reports a dependency cycle once, naming every step in it and none outside it', () => {
    // Given a → b → c → a (each needs the next), and d hanging off the cycle
    const issues = definitionIssues(
      def({
        a: { worker: 'w', needs: ['b'] },
        b: { worker: 'w', needs: ['c'] },
        c: { worker: 'w', needs: ['a'] },
        d: { worker: 'w', needs: ['a'] },
      }),
    );
    expect(issues).toHaveLength(1);
    const [cycle] = issues;
    expect(cycle?.path).toMatch(/^\/steps\/[abc]\/needs$/);
    expect(cycle?.message).toMatch(/^dependency cycle: /);
    const named = (cycle?.message ?? '').replace('dependency cycle: ', '').split(' → ');
    // The cycle is reported as a closed path: four names, first = last, covering exactly a, b and c
    expect(named).toHaveLength(4);
    expect(named[0]).toBe(named[3]);
    expect([...new Set(named)].sort()).toEqual(['a', 'b', 'c']);
  });

  it('rejects a step that needs itself', () => {
    expect(definitionIssues(def({ a: { worker: 'w', needs: ['a'] } }))).toEqual([
      { path: '/steps/a/needs/0', message: 'step "a" cannot need itself' },
    ]);
  });

  it('reports an unknown need by its index, with a suggestion for a near miss', () => {
    const issues = definitionIssues(
      def({
        'create-account': { worker: 'w' },
        b: { worker: 'w', needs: ['create-account', 'nope'] },
        c: { worker: 'w', needs: ['create-acount'] },
      }),
    );
    expect(issues).toEqual([
      { path: '/steps/b/needs/1', message: 'unknown step "nope"' },
      { path: '/steps/c/needs/0', message: 'unknown step "create-acount" (did you mean "create-account"?)' },
    ]);
  });

  it('reports an expression that reads an unknown step', () => {
    const issues = definitionIssues(
      def({ a: { worker: 'w' }, b: { worker: 'w', needs: ['a'], when: "${{ steps['zzz'].output.ok }}" } }),
    );
    expect(issues).toEqual([{ path: '/steps/b/when', message: 'expression reads unknown step "zzz"' }]);
  });

  it('reports an expression that reads a step which is not upstream', () => {
    // Given c reads a's output, but a is a sibling, not a need (direct or transitive)
    const issues = definitionIssues(
      def({
        a: { worker: 'w' },
        b: { worker: 'w' },
        c: { worker: 'w', needs: ['b'], input: { nested: ['x', { id: '${{ steps.a.output.id }}' }] } },
      }),
    );
    expect(issues).toEqual([
      {
        path: '/steps/c/input/nested/1/id',
        message: 'expression reads step "a", which is not upstream of "c": add it to needs',
      },
    ]);
  });

  it('accepts expressions reading transitive upstream steps, and a compensation reading its own step', () => {
    const issues = definitionIssues(
      def({
        a: { worker: 'w' },
        b: { worker: 'w', needs: ['a'] },
        c: {
          worker: 'w',
          needs: ['b'],
          when: "${{ steps['a'].output.ok }}",
          compensate: {
            action: 'undo',
            input: { id: '${{ steps.c.output.id }}', from: '${{ steps.a.output.id }}' },
          },
        },
      }),
    );
    expect(issues).toEqual([]);
  });

  it('reports an expression that does not parse', () => {
    const issues = definitionIssues(def({ a: { worker: 'w', when: '${{ input.x == }}' } }));
    expect(issues).toHaveLength(1);
    expect(issues[0]?.path).toBe('/steps/a/when');
    expect(issues[0]?.message).toMatch(/^cannot parse "input.x =="/);
  });

  it('reports a bad duration with the offending text and an example of a good one', () => {
    const issues = definitionIssues(def({ a: { worker: 'w', timeout: '5 minutes' } }));
    expect(issues).toEqual([
      { path: '/steps/a/timeout', message: 'bad duration "5 minutes": write e.g. 500ms, 30s, 5m, 48h or 1h30m' },
    ]);
  });

  it('reports an unknown join policy with the offending text', () => {
    const issues = definitionIssues(def({ a: { worker: 'w' }, b: { worker: 'w', needs: ['a'], join: 'sometimes' } }));
    expect(issues).toEqual([
      {
        path: '/steps/b/join',
        message: 'unknown join policy "sometimes": use all_success, any_success, majority, quorum(N) or all_done',
      },
    ]);
  });

  it('reports a bad worker name with the offending text', () => {
    const issues = definitionIssues(def({ a: { worker: 'Bad Worker' } }));
    expect(issues).toEqual([
      {
        path: '/steps/a/worker',
        message:
          '"Bad Worker" is not a valid identifier: use 1 to 63 characters of a-z, 0-9, - and _, starting with a letter or digit',
      },
    ]);
  });

  it('rejects quorum(N) with more successes than needs', () => {
    const issues = definitionIssues(
      def({ a: { worker: 'w' }, b: { worker: 'w' }, c: { worker: 'w', needs: ['a', 'b'], join: 'quorum(3)' } }),
    );
    expect(issues).toEqual([
      { path: '/steps/c/join', message: 'quorum(3) needs 3 successes but the step has only 2 needs' },
    ]);
    // and accepts it when the needs are enough
    expect(
      definitionIssues(
        def({ a: { worker: 'w' }, b: { worker: 'w' }, c: { worker: 'w', needs: ['a', 'b'], join: 'quorum(2)' } }),
      ),
    ).toEqual([]);
  });

  it('rejects a compensation that points at nothing', () => {
    // An approval step has no effect to undo
    expect(definitionIssues(def({ gate: { type: 'approval', compensate: { action: 'undo' } } }))).toEqual([
      {
        path: '/steps/gate/compensate',
        message: 'compensation points at nothing: an approval step has no effect to undo',
      },
    ]);
    // A task without a worker has nobody to undo it either
    expect(
      issuesAt(definitionIssues(def({ a: { compensate: { action: 'undo' } } })), '/steps/a/compensate/worker'),
    ).toEqual(['compensation points at nothing: give it a worker']);
  });

  it('rejects an approval step with a worker, and a task step without one', () => {
    expect(definitionIssues(def({ gate: { type: 'approval', worker: 'w' }, t: { action: 'x' } }))).toEqual([
      { path: '/steps/gate/worker', message: 'an approval step is a human gate and takes no worker' },
      { path: '/steps/t/worker', message: 'a task step needs a worker' },
    ]);
  });

  it('rejects unknown fields wherever they are', () => {
    const issues = definitionIssues(
      def({ a: { worker: 'w', colour: 'red', retry: { maxAttempts: 2, tries: 3 } } }, { owner: 'me' }),
    );
    expect(issues).toEqual(
      expect.arrayContaining([
        { path: '/owner', message: 'unknown field "owner"' },
        { path: '/steps/a/colour', message: 'unknown field "colour"' },
        { path: '/steps/a/retry/tries', message: 'unknown field "tries"' },
      ]),
    );
    expect(issues).toHaveLength(3);
  });

  it('reports missing required fields and bad step ids', () => {
    const issues = definitionIssues({ version: 1, steps: { 'Bad Id': { worker: 'w' } } });
    expect(issues).toEqual(
      expect.arrayContaining([
        { path: '/id', message: 'missing required field "id"' },
        {
          path: '/steps/Bad Id',
          message:
            'step id "Bad Id" is not valid: use 1 to 63 characters of a-z, 0-9, - and _, starting with a letter or digit',
        },
      ]),
    );
  });

  it('reports maxDelay shorter than initialDelay', () => {
    expect(definitionIssues(def({ a: { worker: 'w', retry: { initialDelay: '1m', maxDelay: '1s' } } }))).toEqual([
      { path: '/steps/a/retry/maxDelay', message: 'maxDelay (1s) is shorter than initialDelay (1m)' },
    ]);
  });

  it('reports every problem at once, and compileDefinition throws them all', () => {
    // Given four unrelated problems: an unknown field, an unknown need, an over-large quorum and a worker on an approval
    const raw = def({
      a: { worker: 'w', colour: 'red' },
      b: { worker: 'w', needs: ['ghost'] },
      c: { worker: 'w', needs: ['a'], join: 'quorum(2)' },
      gate: { type: 'approval', worker: 'w', needs: ['a'] },
    });
    const issues = definitionIssues(raw);
    expect(issues.map((i) => i.path).sort()).toEqual([
      '/steps/a/colour',
      '/steps/b/needs/0',
      '/steps/c/join',
      '/steps/gate/worker',
    ]);

    const error = invalid(() => compileDefinition(raw));
    expect(error.code).toBe('DEFINITION.INVALID');
    expect(error.retryable).toBe(false);
    expect(error.issues).toEqual(issues);
    expect(error.message).toMatch(/^definition "wf" v1 is invalid \(4 problems\):/);
    for (const issue of issues) expect(error.message).toContain(`${issue.path}: ${issue.message}`);
  });
});

describe('parseDefinitionText', () => {
  it('reads YAML and JSON to the same definition', () => {
    const yaml = parseDefinitionText('id: wf\nversion: 1\nsteps:\n  a: { worker: w }\n');
    const json = parseDefinitionText('{"id":"wf","version":1,"steps":{"a":{"worker":"w"}}}');
    expect(yaml).toEqual(json);
  });

  it('names the line and column of a YAML syntax error', () => {
    // Line 5 starts a key before the flow map on line 4 is closed
    const error = invalid(() =>
      parseDefinitionText('id: wf\nversion: 1\nsteps:\n  a: { worker: w\n  b: { worker: w }\n', 'broken.yaml'),
    );
    expect(error.issues).toHaveLength(1);
    expect(error.issues[0]?.message).toMatch(/^YAML BAD_INDENT\b.*\bline 5, column 3\b/);
    expect(error.message).toMatch(/^broken\.yaml is invalid/);
  });

  it('rejects duplicate keys, which YAML would otherwise silently merge', () => {
    const error = invalid(() =>
      parseDefinitionText('id: wf\nversion: 1\nsteps:\n  a: { worker: w }\n  a: { worker: v }\n'),
    );
    expect(error.issues[0]?.message).toMatch(/^YAML DUPLICATE_KEY\b.*\bline 5, column 3\b/);
  });

  it('reports a JSON syntax error as JSON', () => {
    const error = invalid(() => parseDefinitionText('{"id": "wf",'));
    expect(error.issues[0]?.message).toMatch(/^not valid JSON: /);
  });
});

describe('durations', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['5m', 300_000],
    ['48h', 172_800_000],
    ['2d', 172_800_000],
    ['1h30m', 5_400_000],
    ['1m500ms', 60_500],
    ['0s', 0],
  ])('parses %s as %i ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['5 minutes', '', '10', '1.5s', '-1s', 'ms', '1h 30m', ' 1s', '1S', '1w', 's1'])('rejects %j', (text) => {
    expect(parseDuration(text)).toBeNull();
  });

  it('formats in the largest whole unit, and what it formats parses back', () => {
    for (const ms of [1, 999, 1000, 90_000, 3_600_000, 5_400_000, 86_400_000])
      expect(parseDuration(formatDuration(ms))).toBe(ms);
    expect([
      formatDuration(0),
      formatDuration(1500),
      formatDuration(120_000),
      formatDuration(7_200_000),
      formatDuration(172_800_000),
    ]).toEqual(['0ms', '1500ms', '2m', '2h', '2d']);
  });
});

describe('templates and expressions', () => {
  const context: ExpressionContext = {
    input: { n: 41, price: 1.5, email: 'ada@example.com', manager: true, tags: ['a', 'b'] },
    steps: { 'create-account': { status: 'completed', output: { accountId: 'acc-7', quota: 10 } } },
    run: { id: 'run-1', definitionId: 'wf' },
  };

  it('a string that is one ${{ }} yields the typed value', () => {
    expect(
      renderTemplate(
        {
          n: '${{ input.n }}',
          manager: '${{ input.manager }}',
          tags: '${{ input.tags }}',
          output: "${{ steps['create-account'].output }}",
          spaced: '  ${{ input.email }}  ',
        },
        context,
      ),
    ).toEqual({
      n: 41,
      manager: true,
      tags: ['a', 'b'],
      output: { accountId: 'acc-7', quota: 10 },
      spaced: 'ada@example.com',
    });
  });

  it('embedded ${{ }} interpolate into the surrounding text', () => {
    expect(
      renderTemplate(
        'Welcome ${{ input.email }} (account ${{ steps["create-account"].output.accountId }}, ${{ input.n }})',
        context,
      ),
    ).toBe('Welcome ada@example.com (account acc-7, 41)');
    expect(renderTemplate('${{ input.n }}${{ input.n }}', context)).toBe('4141');
  });

  it('leaves non-template values alone, recursing through arrays and objects', () => {
    expect(renderTemplate({ a: 1, b: [true, null, 'plain', { c: '${{ input.n }}' }] }, context)).toEqual({
      a: 1,
      b: [true, null, 'plain', { c: 41 }],
    });
  });

  it('treats JSON integers as CEL ints, so arithmetic works and comes back as a number', () => {
    expect(renderTemplate('${{ input.n + 1 }}', context)).toBe(42);
    expect(evaluateExpression("steps['create-account'].output.quota * 2 + input.n", context)).toBe(61);
    expect(evaluateExpression('input.n > 40 && input.manager', context)).toBe(true);
    // non-integers stay doubles
    expect(evaluateExpression('input.price * 2.0', context)).toBe(3);
  });

  it('fails loudly on an expression that cannot be evaluated', () => {
    expect(() => evaluateExpression('input.missing.deeper', context)).toThrow(/cannot evaluate/);
    expect(() => renderTemplate('${{ input.n + }}', context)).toThrow(/cannot parse/);
  });

  it('finds the steps an expression reads, in both notations', () => {
    expect(referencedSteps("steps['a'].output.x + steps.b.output.y > input.n").sort()).toEqual(['a', 'b']);
    expect(referencedSteps('input.n + 1')).toEqual([]);
  });
});
