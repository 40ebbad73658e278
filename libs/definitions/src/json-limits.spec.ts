import { describe, expect, it } from '@jest/globals';
import {
  checkJsonLimits,
  identifierProblem,
  JsonLimitError,
  MAX_JSON_DEPTH,
  nestsDeeperThan,
  parseLimitedJson,
  quoteForMessage,
} from './index.ts';

const nested = (depth: number): string => `${'['.repeat(depth)}${']'.repeat(depth)}`;

const refusal = (text: string, limits?: Parameters<typeof parseLimitedJson>[1]): JsonLimitError => {
  try {
    parseLimitedJson(text, limits);
  } catch (error) {
    if (error instanceof JsonLimitError) return error;
    throw error;
  }
  throw new Error(`accepted ${text.slice(0, 40)}`);
};

describe('nestsDeeperThan', () => {
  it('counts objects and arrays, up to and past the limit', () => {
    expect(nestsDeeperThan(nested(64), 64)).toBe(false);
    expect(nestsDeeperThan(nested(65), 64)).toBe(true);
    expect(nestsDeeperThan('{"a":{"b":[1,{"c":2}]}}', 4)).toBe(false);
    expect(nestsDeeperThan('{"a":{"b":[1,{"c":2}]}}', 3)).toBe(true);
  });

  it('does not count brackets inside strings, escaped quotes included', () => {
    expect(nestsDeeperThan(JSON.stringify({ s: '[[[[[[{{{{' }), 1)).toBe(false);
    expect(nestsDeeperThan(JSON.stringify({ s: 'a "quoted" [[[ \\ back' }), 1)).toBe(false);
    expect(nestsDeeperThan(`{"s":"\\"","t":[[1]]}`, 2)).toBe(true);
  });

  it('reads siblings at their own depth: breadth is not depth', () => {
    expect(nestsDeeperThan(`[${Array.from({ length: 1000 }, () => '[1]').join(',')}]`, 2)).toBe(false);
  });
});

describe('parseLimitedJson', () => {
  it('parses JSON within the limits', () => {
    expect(parseLimitedJson('{"a":[1,2.5,-3e10,"x",null,true]}')).toEqual({ a: [1, 2.5, -3e10, 'x', null, true] });
    expect(parseLimitedJson(nested(MAX_JSON_DEPTH))).toBeInstanceOf(Array);
  });

  it('refuses 10,000 levels before parsing, naming the limit', () => {
    const error = refusal(`${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`, { subject: 'the body' });
    expect(error.message).toBe('the body nests deeper than 64 levels');
    expect(error.details).toEqual({ limit: 'depth', max: 64 });
  });

  it('takes a smaller limit when given one', () => {
    expect(refusal('[[[1]]]', { maxDepth: 2 }).details).toEqual({ limit: 'depth', max: 2 });
  });

  it('refuses numbers JSON.parse reads as infinite, naming the path', () => {
    expect(refusal('{"definition":{"version":1e309}}').message).toBe('$.definition.version is not a finite number');
    expect(refusal('{"input":{"items":[1,-1e400]}}').details).toEqual({ limit: 'finite', path: '$.input.items[1]' });
    expect(refusal('{"a b":{"c":1e999}}').message).toBe('$["a b"].c is not a finite number');
    expect(refusal('1e309').message).toBe('$ is not a finite number');
  });

  it('cuts a long key in a path to 80 characters', () => {
    const key = 'k'.repeat(100_000);
    const message = refusal(`{"${key}":1e309}`).message;
    expect(message.length).toBeLessThan(200);
    expect(message).toContain('(100000 characters)');
  });

  it("reports text that is not JSON with the parser's position", () => {
    const error = refusal('{"definitionId":', { subject: 'the body' });
    expect(error.limit).toBe('syntax');
    expect(error.message).toMatch(/^the body is not JSON: .*position 16/);
  });

  it('refuses prototype keys anywhere when asked, naming the key and its path', () => {
    const limits = { forbidPrototypeKeys: true };
    expect(refusal('{"__proto__":{"admin":true}}', limits).details).toEqual({
      limit: 'key',
      path: '$.__proto__',
      key: '__proto__',
    });
    expect(refusal('{"input":{"constructor":{"prototype":{"x":1}}}}', limits).details).toEqual({
      limit: 'key',
      path: '$.input.constructor',
      key: 'constructor.prototype',
    });
    expect(refusal('[{"a":{"__proto__":null}}]', limits).message).toBe(
      '$[0].a.__proto__: the key "__proto__" is not allowed (it could change an object\'s prototype)',
    );
    expect(parseLimitedJson('{"constructor":"Bob","prototype":1}', limits)).toEqual({
      constructor: 'Bob',
      prototype: 1,
    });
    expect(Object.keys(parseLimitedJson('{"__proto__":1}') as object)).toEqual(['__proto__']);
  });
});

describe('quoteForMessage and identifierProblem', () => {
  it('quotes short strings whole and cuts long ones to 80 characters with their length', () => {
    expect(quoteForMessage('r-1')).toBe('"r-1"');
    expect(quoteForMessage('a'.repeat(80))).toBe(`"${'a'.repeat(80)}"`);
    expect(quoteForMessage('a'.repeat(1_048_576))).toBe(`"${'a'.repeat(80)}…" (1048576 characters)`);
    expect(quoteForMessage('say "hi"\n')).toBe('"say \\"hi\\"\\n"');
  });

  it('states the identifier rule and quotes at most 80 characters of the value', () => {
    expect(identifierProblem('definitionId', 'employee-onboarding')).toBeNull();
    expect(identifierProblem('stepId', 'a'.repeat(63))).toBeNull();
    const problem = identifierProblem('definitionId', 'a'.repeat(1_048_576)) ?? '';
    expect(problem).toBe(
      `"definitionId" must be 1 to 63 characters of a-z, 0-9, - and _, starting with a letter or digit; got "${'a'.repeat(80)}…" (1048576 characters)`,
    );
    expect(identifierProblem('stepId', 'a'.repeat(64))).toContain('(64 characters)');
    expect(identifierProblem('stepId', 'Bad')).toMatch(/; got "Bad"$/);
    expect(identifierProblem('stepId', 7)).toMatch(/; got a number$/);
    expect(identifierProblem('stepId', {})).toMatch(/; got an object$/);
  });
});

describe('checkJsonLimits', () => {
  const deep = (levels: number): unknown => {
    let value: unknown = 1;
    for (let i = 0; i < levels; i++) value = { a: value };
    return value;
  };
  const refusedValue = (value: unknown, limits?: Parameters<typeof checkJsonLimits>[1]): JsonLimitError => {
    try {
      checkJsonLimits(value, limits);
    } catch (error) {
      if (error instanceof JsonLimitError) return error;
      throw error;
    }
    throw new Error('accepted');
  };

  it('accepts a decoded value at the limit and refuses one level more, naming the limit and where', () => {
    expect(() => checkJsonLimits(deep(64))).not.toThrow();
    const error = refusedValue(deep(65), { subject: 'the message' });
    expect(error.message).toMatch(/^the message nests deeper than 64 levels \(at \$(\.a){64}\)$/);
    expect(error.details).toMatchObject({ limit: 'depth', max: 64 });
    expect(refusedValue([[[]]], { maxDepth: 2 }).details).toEqual({ limit: 'depth', max: 2, path: '$[0][0]' });
  });

  it('refuses a value 10,000 levels deep without overflowing the stack', () => {
    expect(refusedValue(deep(10_000)).limit).toBe('depth');
  });

  it('refuses non-finite numbers, NaN included, naming the path', () => {
    expect(refusedValue({ output: { total: Number.POSITIVE_INFINITY } }).message).toBe(
      '$.output.total is not a finite number',
    );
    expect(refusedValue([Number.NaN]).details).toEqual({ limit: 'finite', path: '$[0]' });
  });
});
