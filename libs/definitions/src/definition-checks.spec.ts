import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { compileDefinition, definitionIssues, evaluateExpression, parseDefinitionText } from './index.ts';
import type { DefinitionIssue, ExpressionContext } from './index.ts';

/* What registration refuses that used to pass and fail only at run time (issue 11, item 7). */

const EXAMPLES = new URL('../../../examples/', import.meta.url);

function def(steps: Record<string, unknown>): Record<string, unknown> {
  return { id: 'wf', version: 1, steps };
}

/** The messages at one path. */
function at(issues: readonly DefinitionIssue[], path: string): string[] {
  return issues.filter((i) => i.path === path).map((i) => i.message);
}

const oneStep = (field: 'when' | 'input', source: string) =>
  definitionIssues(def({ a: { worker: 'w', ...(field === 'when' ? { when: source } : { input: { x: source } }) } }));

describe('expressions are type-checked against what they see at run time', () => {
  it('refuses an unknown identifier, naming the path and the identifier', () => {
    const issues = oneStep('when', "${{ process.mainModule.require('child_process') }}");
    expect(at(issues, '/steps/a/when')).toEqual([
      `expression "process.mainModule.require('child_process')" calls unknown function "require"`,
      `expression "process.mainModule.require('child_process')" reads unknown identifier "process": an expression sees only input, steps and run`,
    ]);
  });

  it('refuses a call to a function CEL does not have, in a template, at the template path', () => {
    const issues = definitionIssues(
      def({ a: { worker: 'w', input: { deep: [{ x: 'id ${{ input.id }} and ${{ eval(input.code) }}' }] } } }),
    );
    expect(issues).toEqual([
      { path: '/steps/a/input/deep/0/x', message: 'expression "eval(input.code)" calls unknown function "eval"' },
    ]);
  });

  it.each([
    ['constructor', 'reads unknown identifier "constructor"'],
    ['this', 'reads unknown identifier "this"'],
    ['globalThis.x', 'reads unknown identifier "globalThis"'],
    ['input.x.toString()', 'calls unknown function "toString"'],
    ['input.hasOwnProperty("x")', 'calls unknown function "hasOwnProperty"'],
    ['input.constructor.constructor("return 1")', 'calls unknown function "constructor"'],
    ['run.constructor', 'does not type-check: No such key: constructor'],
    ['run.__proto__', 'No such key: __proto__'],
    ['orchestron_evaluator()', 'calls unknown function "orchestron_evaluator"'],
    ['run.id + 1', 'does not type-check: no such overload: string + int'],
    ['steps.a.outptu', 'does not type-check: No such key: outptu'],
  ])('refuses %s', (source, expected) => {
    const messages = at(oneStep('input', `\${{ ${source} }}`), '/steps/a/input/x');
    expect(messages.join('\n')).toContain(expected);
  });

  it('refuses the reserved __proto__ and a step named after a prototype property', () => {
    expect(at(oneStep('when', '${{ __proto__ }}'), '/steps/a/when')).toEqual([
      'cannot parse "__proto__": Reserved identifier: __proto__',
    ]);
    const issues = definitionIssues(
      def({
        a: { worker: 'w', input: { x: "${{ steps['constructor'].output }}", y: '${{ steps.__proto__.status }}' } },
      }),
    );
    expect(at(issues, '/steps/a/input/x')).toEqual(['expression reads unknown step "constructor"']);
    expect(at(issues, '/steps/a/input/y')).toEqual(['expression reads unknown step "__proto__"']);
  });

  it('accepts what the context holds, macros with their own variables, and matches on RE2', () => {
    const issues = definitionIssues(
      def({
        a: { worker: 'w' },
        b: {
          worker: 'w',
          needs: ['a'],
          when: "${{ input.items.exists(i, i.price > 10) && run.definitionId == 'wf' && input.email.matches('^[^@]+@') }}",
          input: {
            total: '${{ input.items.map(i, i.price).size() }}',
            id: '${{ run.id }}',
            seen: "${{ steps.a.status == 'completed' && steps['a'].output.ok == true }}",
            bound: '${{ cel.bind(n, input.n, n + 1) }}',
          },
        },
      }),
    );
    expect(issues).toEqual([]);
  });

  it('refuses a macro variable that would hide what the run sees', () => {
    const messages = at(oneStep('when', '${{ input.xs.all(input, input > 0) }}'), '/steps/a/when');
    expect(messages).toContain(
      'expression "input.xs.all(input, input > 0)" binds "input" as the variable of all(): it would hide the run\'s',
    );
  });

  it('refuses reading steps as a whole or with a computed key: what it reads could not be checked', () => {
    const issues = definitionIssues(
      def({
        a: { worker: 'w' },
        b: { worker: 'w', needs: ['a'], input: { x: '${{ steps[input.which].output }}', n: '${{ size(steps) }}' } },
      }),
    );
    expect(at(issues, '/steps/b/input/x').join('\n')).toContain('indexes steps with a computed key');
    expect(at(issues, '/steps/b/input/n').join('\n')).toContain('reads steps as a whole');
  });

  it('refuses an expression nested deeper than the parser allows, and lists only what it must', () => {
    const deep = `\${{ ${'('.repeat(500)}input.x${')'.repeat(500)} }}`;
    expect(at(oneStep('when', deep), '/steps/a/when')).toEqual([expect.stringMatching(/^cannot parse/)]);
    const deepAnd = `\${{ ${Array.from({ length: 600 }, (_, i) => `u${i}`).join(' && ')} }}`;
    expect(at(oneStep('when', deepAnd), '/steps/a/when')).toHaveLength(1);
  });

  it('reports the first unknown identifier of a huge list once, quickly, with its name cut short', () => {
    const names = Array.from({ length: 900 }, (_, i) => `unknown_${i}`);
    const started = performance.now();
    const messages = at(oneStep('input', `\${{ [${names.join(', ')}] }}`), '/steps/a/input/x');
    expect(messages).toEqual([expect.stringContaining('reads unknown identifier "unknown_0"')]);
    const long = 'x'.repeat(10_000);
    const cut = at(oneStep('input', `\${{ ${long} }}`), '/steps/a/input/x').join('\n');
    expect(cut).toContain('(10000 characters)');
    expect(cut.length).toBeLessThan(400);
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('refuses many bad expressions each at its own path', () => {
    const steps: Record<string, unknown> = {};
    for (let i = 0; i < 200; i++) steps[`s${i}`] = { worker: 'w', when: `\${{ nope${i} }}` };
    const issues = definitionIssues(def(steps));
    expect(issues).toHaveLength(200);
    expect(issues[199]).toEqual({
      path: '/steps/s199/when',
      message: 'expression "nope199" reads unknown identifier "nope199": an expression sees only input, steps and run',
    });
  });
});

describe('a step reads the output of a step that may not have succeeded only behind a guard', () => {
  const fanIn = (join: string, input: Record<string, string>, extra: Record<string, unknown> = {}) =>
    definitionIssues(
      def({ a: { worker: 'w' }, b: { worker: 'w' }, c: { worker: 'w', needs: ['a', 'b'], join, input, ...extra } }),
    );

  it.each(['any_success', 'majority', 'quorum(1)', 'all_done'])('refuses an unguarded read under %s', (join) => {
    expect(fanIn(join, { x: '${{ steps.a.output.id }}' })).toEqual([
      {
        path: '/steps/c/input/x',
        message: `expression reads steps["a"].output, but "c" starts when its join ${join} is met, which does not wait for "a" to succeed: guard the read, as steps["a"].status == 'completed' ? steps["a"].output… : null, or has(steps.a.output.<field>)`,
      },
    ]);
  });

  it('accepts the guards, and a read of the status, under any_success', () => {
    expect(
      fanIn('any_success', {
        ternary: "${{ steps.a.status == 'completed' ? steps.a.output.id : null }}",
        and: "${{ 'completed' == steps['a'].status && steps.a.output.id > 0 }}",
        has: '${{ has(steps.a.output.id) ? steps.a.output.id : steps.b.status }}',
        hasOnly: '${{ has(steps.b.output.id) }}',
        notNull: '${{ steps.b.output != null && steps.b.output.ok }}',
        status: '${{ steps.a.status }}',
      }),
    ).toEqual([]);
  });

  it('refuses what only looks like a guard', () => {
    const issues = fanIn('any_success', {
      otherStep: "${{ steps.b.status == 'completed' ? steps.a.output.id : null }}",
      elseBranch: "${{ steps.a.status == 'completed' ? null : steps.a.output.id }}",
      hasOutput: '${{ has(steps.a.output) ? steps.a.output.id : null }}',
      wrongStatus: "${{ steps.a.status == 'failed' ? steps.a.output.id : null }}",
      guardAfter: "${{ steps.a.output.id > 0 && steps.a.status == 'completed' }}",
      or: "${{ steps.a.status != 'completed' || steps.a.output.id > 0 }}",
    });
    for (const key of ['otherStep', 'elseBranch', 'hasOutput', 'wrongStatus', 'guardAfter', 'or'])
      expect(at(issues, `/steps/c/input/${key}`)).toEqual([expect.stringContaining('reads steps["a"].output, but')]);
  });

  it("takes the step's when as a guard of its input", () => {
    expect(fanIn('any_success', { x: '${{ steps.a.output.id }}' }, { when: '${{ has(steps.a.output.id) }}' })).toEqual(
      [],
    );
  });

  it('suggests has() only where CEL allows it: on a step id that is an identifier', () => {
    const issues = definitionIssues(
      def({
        'quote-a': { worker: 'w' },
        b: { worker: 'w' },
        c: {
          worker: 'w',
          needs: ['quote-a', 'b'],
          join: 'any_success',
          input: { x: "${{ steps['quote-a'].output }}" },
        },
      }),
    );
    expect(at(issues, '/steps/c/input/x')).toEqual([
      expect.stringMatching(
        /guard the read, as steps\["quote-a"\]\.status == 'completed' \? steps\["quote-a"\]\.output… : null$/,
      ),
    ]);
    // and the guard it suggests is accepted
    const guarded = "${{ steps['quote-a'].status == 'completed' ? steps['quote-a'].output : null }}";
    expect(
      definitionIssues(
        def({
          'quote-a': { worker: 'w' },
          b: { worker: 'w' },
          c: { worker: 'w', needs: ['quote-a', 'b'], join: 'any_success', input: { x: guarded } },
        }),
      ),
    ).toEqual([]);
  });

  it('refuses a read of a need that has a when, which may skip it', () => {
    const issues = definitionIssues(
      def({
        a: { worker: 'w', when: '${{ input.go }}' },
        b: { worker: 'w', needs: ['a'], input: { x: '${{ steps.a.output }}' } },
      }),
    );
    expect(at(issues, '/steps/b/input/x')).toEqual([
      expect.stringContaining('"a" has a when, so it may be skipped and have no output'),
    ]);
  });

  it('follows all_success joins transitively, and stops at a join that does not wait', () => {
    const issues = definitionIssues(
      def({
        a: { worker: 'w' },
        b: { worker: 'w', needs: ['a'] },
        x: { worker: 'w' },
        either: { worker: 'w', needs: ['b', 'x'], join: 'any_success' },
        both: { worker: 'w', needs: ['b', 'x'] },
        after: {
          worker: 'w',
          needs: ['either', 'both'],
          input: {
            viaBoth: '${{ steps.a.output }}',
            viaEither: '${{ steps.x.output }}',
            direct: '${{ steps.either.output }}',
          },
        },
        'after-either': { worker: 'w', needs: ['either'], input: { a: '${{ steps.a.output }}' } },
      }),
    );
    expect(issues).toEqual([
      {
        path: '/steps/after-either/input/a',
        message: expect.stringContaining('"after-either" reaches "a" only through a join that does not wait for it'),
      },
    ]);
  });

  it('keeps what every need of an any_success join is certain of', () => {
    const issues = definitionIssues(
      def({
        root: { worker: 'w' },
        l: { worker: 'w', needs: ['root'] },
        r: { worker: 'w', needs: ['root'] },
        join: { worker: 'w', needs: ['l', 'r'], join: 'any_success', input: { x: '${{ steps.root.output.id }}' } },
      }),
    );
    expect(issues).toEqual([]);
  });

  it("lets a compensation read its own step's output and what its step was certain of", () => {
    const issues = definitionIssues(
      def({
        a: { worker: 'w' },
        b: { worker: 'w' },
        c: {
          worker: 'w',
          needs: ['a', 'b'],
          join: 'any_success',
          compensate: { action: 'undo', input: { own: '${{ steps.c.output.id }}', other: '${{ steps.a.output.id }}' } },
        },
      }),
    );
    expect(issues).toEqual([
      { path: '/steps/c/compensate/input/other', message: expect.stringContaining('reads steps["a"].output, but') },
    ]);
  });

  it('evaluates the accepted guards to what they promise when the need has not finished', () => {
    const context: ExpressionContext = {
      input: {},
      steps: { a: { status: 'running', output: null }, b: { status: 'completed', output: { id: 7 } } },
      run: { id: 'r', definitionId: 'wf' },
    };
    expect(evaluateExpression("steps.a.status == 'completed' ? steps.a.output.id : steps.b.output.id", context)).toBe(
      7,
    );
    expect(evaluateExpression('has(steps.a.output.id) ? steps.a.output.id : 0', context)).toBe(0);
    expect(evaluateExpression('steps.a.output != null && steps.a.output.ok', context)).toBe(false);
  });
});

describe('compensate needs an action', () => {
  it.each([
    [{}, '/steps/a/compensate'],
    [{ input: { id: '${{ steps.a.output.id }}' } }, '/steps/a/compensate'],
    [{ retry: { maxAttempts: 2 } }, '/steps/a/compensate'],
  ])('refuses compensate: %j', (compensate, path) => {
    expect(definitionIssues(def({ a: { worker: 'w', compensate } }))).toEqual([
      {
        path,
        message: 'compensation needs an action: name it with "action" (and "worker" when another worker undoes it)',
      },
    ]);
  });

  it("accepts an action on the step's worker, or another worker", () => {
    expect(definitionIssues(def({ a: { worker: 'w', compensate: { action: 'undo' } } }))).toEqual([]);
    expect(definitionIssues(def({ a: { worker: 'w', compensate: { worker: 'undoer' } } }))).toEqual([]);
  });
});

describe('what is handed over already parsed', () => {
  it('refuses a definition nested deeper than any JSON the edge takes in, before walking it', () => {
    let input: unknown = 'leaf';
    for (let i = 0; i < 5_000; i++) input = [input];
    const issues = definitionIssues(def({ a: { worker: 'w', input } }));
    expect(issues).toEqual([
      { path: '', message: expect.stringMatching(/^the definition nests deeper than 64 levels/) },
    ]);
  });
});

describe('every example still validates', () => {
  const files = readdirSync(EXAMPLES).filter((f) => /\.(ya?ml|json)$/.test(f));

  it.each(files)('%s', (file) => {
    expect(() =>
      compileDefinition(parseDefinitionText(readFileSync(new URL(file, EXAMPLES), 'utf8'), file)),
    ).not.toThrow();
  });
});
