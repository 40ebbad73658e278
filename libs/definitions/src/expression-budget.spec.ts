/**
 * Expressions run within a budget (docs/adr/0011-expression-budgets.md). How long a hostile
 * expression holds the event loop is measured by bench/expressions.bench.ts, not asserted here:
 * these specs pin the outcomes, which the meter makes deterministic.
 */
import { describe, expect, it } from '@jest/globals';
import {
  compileDefinition,
  DefinitionInvalidError,
  EXPRESSION_LIMITS,
  evaluateExpression,
  ExpressionBudgetError,
  ExpressionError,
} from './index.ts';
import type { ExpressionContext } from './index.ts';

function ctx(input: unknown, steps: ExpressionContext['steps'] = {}): ExpressionContext {
  return { input, steps, run: { id: 'run-1', definitionId: 'wf' } };
}

function failure(source: string, context: ExpressionContext): ExpressionError {
  try {
    evaluateExpression(source, context);
  } catch (error) {
    if (error instanceof ExpressionError) return error;
    throw error;
  }
  throw new Error(`expected ${source} to fail`);
}

function overBudget(source: string, context: ExpressionContext): ExpressionBudgetError {
  const error = failure(source, context);
  expect(error).toBeInstanceOf(ExpressionBudgetError);
  expect(error.code).toBe('EXPRESSION.BUDGET_EXCEEDED');
  return error as ExpressionBudgetError;
}

const ints = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
const million = ctx({ items: ints(1_000_000) });

describe('matches runs on RE2', () => {
  it('answers the catastrophic-backtracking pattern: no match, as RE2 computes it in linear time', () => {
    expect(evaluateExpression("'aaaaaaaaaaaaaaaaaaaaaaaaaa!'.matches('^(a+)+$')", ctx({}))).toBe(false);
    expect(evaluateExpression("input.s.matches('^(a+)+$')", ctx({ s: 'a'.repeat(5_000) }))).toBe(true);
  });

  it('has both forms, with CEL semantics: a match anywhere unless anchored', () => {
    const c = ctx({ email: 'ada@example.com' });
    expect(evaluateExpression("input.email.matches('@example\\\\.com$')", c)).toBe(true);
    expect(evaluateExpression("matches(input.email, '^example')", c)).toBe(false);
    expect(evaluateExpression("matches(input.email, 'example')", c)).toBe(true);
    expect(evaluateExpression("input.email.matches('^[a-z]+@')", c)).toBe(true);
  });

  it.each([
    ['a backreference', "'aa'.matches('(a)\\\\1')"],
    ['a lookahead', "'ab'.matches('a(?=b)')"],
    ['a lookbehind', "'ab'.matches('(?<=a)b')"],
  ])('refuses %s with EXPRESSION.INVALID that says RE2 has none', (_name, source) => {
    const error = failure(source, ctx({}));
    expect(error.code).toBe('EXPRESSION.INVALID');
    expect(error.message).toMatch(/is not supported: .*RE2.*no backreferences or lookaround/);
  });

  it('refuses a non-string operand', () => {
    expect(failure("input.n.matches('1')", ctx({ n: 1 })).code).toBe('EXPRESSION.INVALID');
  });

  it('refuses, at registration, a definition whose regex literal RE2 cannot compile, naming the path', () => {
    const raw = {
      id: 'wf',
      version: 1,
      steps: { a: { worker: 'w', input: { ok: "${{ input.name.matches('(x)\\\\1') }}" } } },
    };
    let caught: unknown;
    try {
      compileDefinition(raw);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(DefinitionInvalidError);
    const issue = (caught as DefinitionInvalidError).issues.find((i) => i.path === '/steps/a/input/ok');
    expect(issue?.message).toMatch(/regular expression "\(x\)\\\\1" is not supported/);
  });

  it('accepts, at registration, a regex RE2 compiles', () => {
    expect(() =>
      compileDefinition({
        id: 'wf',
        version: 1,
        steps: { a: { worker: 'w', when: "${{ matches(input.name, '^[A-Z][a-z]+$') }}" } },
      }),
    ).not.toThrow();
  });
});

describe('the operations budget', () => {
  it.each([
    ['map', 'input.items.map(x, x * 2)'],
    ['filter', 'input.items.filter(x, x % 2 == 0)'],
    ['all', 'input.items.all(x, x >= 0)'],
    ['exists with no match, whose per-element errors CEL would otherwise swallow', 'input.items.exists(x, x < 0)'],
    ['exists_one', 'input.items.exists_one(x, x == 3)'],
  ])('stops a %s over a million elements with EXPRESSION.BUDGET_EXCEEDED', (_name, source) => {
    const error = overBudget(source, million);
    expect(error.limit).toBe('operations');
    expect(error.message).toBe(
      `the expression ${JSON.stringify(source)} exceeded its budget of ${EXPRESSION_LIMITS.operations} operations`,
    );
  });

  it('charges a size-dependent operation for what it touches: membership tests in a loop', () => {
    // 300 iterations and 300 nodes each would be cheap; 300 scans of a 300-element list are not counted as cheap
    const small = ctx({ items: ints(300) });
    expect(evaluateExpression('input.items.filter(x, x < 3).size()', small)).toBe(3);
    expect(overBudget('input.items.filter(x, x in input.items).size()', small).limit).toBe('operations');
  });

  it('charges an equality by the size of its operands, the root of the expression included', () => {
    expect(overBudget('input.items == input.items', million).limit).toBe('operations');
  });

  it('stops a nested comprehension', () => {
    expect(overBudget('input.items.map(a, input.items.map(b, a + b))', ctx({ items: ints(500) })).limit).toBe(
      'operations',
    );
  });

  it('does not charge an O(1) read of a large value', () => {
    expect(evaluateExpression('input.items.size() + size(input.items) + input.items[999999]', million)).toBe(2_999_999);
  });

  it('is deterministic: the same expression over the same input gets the same answer', () => {
    const source = 'input.items.filter(x, x % 7 == 0).size()';
    const fits = ctx({ items: ints(500) });
    expect(evaluateExpression(source, fits)).toBe(72);
    expect(evaluateExpression(source, fits)).toBe(72);
  });
});

describe('the size limits', () => {
  it('stops a string concatenation whose result is over the string length limit', () => {
    const half = 'x'.repeat(EXPRESSION_LIMITS.stringLength / 2 + 1);
    const error = overBudget('input.s + input.s', ctx({ s: half }));
    expect(error.limit).toBe('stringLength');
    expect(error.message).toMatch(/exceeded its budget of 100000 characters in a string it builds$/);
    expect(evaluateExpression('size(input.s + "!")', ctx({ s: half }))).toBe(half.length + 1);
  });

  it('stops a string that doubles through bindings', () => {
    let body = 'v14';
    for (let i = 14; i > 0; i--) body = `cel.bind(v${i}, v${i - 1} + v${i - 1}, ${body})`;
    expect(overBudget(`cel.bind(v0, 'abcdefghijklmnop', ${body})`, ctx({})).limit).toBe('stringLength');
  });

  it('stops a list concatenation whose result is over the collection size limit', () => {
    const half = ints(EXPRESSION_LIMITS.collectionSize / 2 + 1);
    expect(overBudget('input.a + input.b', ctx({ a: half, b: half })).limit).toBe('collectionSize');
  });

  it('stops a structure that shares one list many times over before it is copied out', () => {
    let body = 'v8';
    for (let i = 8; i > 0; i--) body = `cel.bind(v${i}, [v${i - 1}, v${i - 1}, v${i - 1}, v${i - 1}], ${body})`;
    expect(overBudget(`cel.bind(v0, [1, 2, 3, 4], ${body})`, ctx({})).code).toBe('EXPRESSION.BUDGET_EXCEEDED');
  });

  it('refuses a source longer than the limit, and nesting deeper than the parser allows', () => {
    expect(failure(Array.from({ length: 6_000 }, () => '1').join('+'), ctx({})).code).toBe('EXPRESSION.INVALID');
    expect(failure(`${'['.repeat(100)}1${']'.repeat(100)}`, ctx({})).message).toMatch(/maxDepth|depth/i);
  });
});

describe('ordinary expressions over the lazily converted context', () => {
  const frozen = (value: unknown): unknown => {
    if (value !== null && typeof value === 'object') {
      for (const child of Object.values(value)) frozen(child);
      Object.freeze(value);
    }
    return value;
  };
  const input = frozen({
    count: 41,
    ratio: 0.5,
    big: 2 ** 60,
    name: 'Ada',
    tags: ['a', 'b'],
    nested: { list: [{ id: 1 }, { id: 2 }] },
  });
  const c = ctx(input, frozen({ fetch: { status: 'completed', output: { n: 3 } } }) as ExpressionContext['steps']);

  it.each([
    ['input.count + 1', 42],
    ['input.ratio * 2.0', 1],
    ['input.big > 1.0', true],
    ['input.tags.map(t, t + "!")', ['a!', 'b!']],
    ['input.nested.list.filter(x, x.id > 1)', [{ id: 2 }]],
    ['input.nested.list.map(x, x.id)', [1, 2]],
    ['has(input.name) && !has(input.missing)', true],
    ['"b" in input.tags', true],
    ['size(input.nested)', 1],
    ['input.nested.exists(k, k == "list")', true],
    ['steps.fetch.output.n * 2', 6],
    ['run.id + "/" + run.definitionId', 'run-1/wf'],
    ['{"who": input.name, "tag": input.tags[0]}', { who: 'Ada', tag: 'a' }],
  ])('%s', (source, expected) => {
    expect(evaluateExpression(source, c)).toEqual(expected);
  });

  it('returns a context value it did not change as the same JSON', () => {
    expect(evaluateExpression('input.nested', c)).toBe((input as { nested: unknown }).nested);
    expect(evaluateExpression('[input.nested, input.nested]', c)).toEqual([
      { list: [{ id: 1 }, { id: 2 }] },
      { list: [{ id: 1 }, { id: 2 }] },
    ]);
  });
});
