import { describe, expect, it } from '@jest/globals';
import { MAX_CEDAR_DEPTH, toCedarRecord, toCedarValue } from './cedar-value.ts';
import { UnevaluableRequestError } from './unevaluable.error.ts';

describe('toCedarValue', () => {
  it('keeps strings, booleans and safe integers as they are', () => {
    // Given JSON scalars Cedar has a type for
    // When they are converted
    // Then they pass through unchanged
    expect(toCedarValue('a')).toBe('a');
    expect(toCedarValue(true)).toBe(true);
    expect(toCedarValue(42)).toBe(42);
    expect(toCedarValue(-7)).toBe(-7);
  });

  it('turns numbers Cedar cannot hold as a Long into strings', () => {
    // Given numbers that are not 64-bit-safe integers
    // When they are converted
    // Then each becomes its decimal string
    expect(toCedarValue(12.5)).toBe('12.5');
    expect(toCedarValue(0.1)).toBe('0.1');
    expect(toCedarValue(2 ** 60)).toBe(String(2 ** 60));
  });

  it('drops null and undefined from records and arrays', () => {
    // Given JSON with nulls, which Cedar rejects
    const value = { a: null, b: undefined, c: [1, null, 2], d: { e: null } };
    // When it is converted
    // Then the nulls are gone and the rest is kept
    expect(toCedarValue(value)).toEqual({ c: [1, 2], d: {} });
    expect(toCedarValue(null)).toBeUndefined();
  });

  it('drops keys Cedar would read as entity or extension escapes', () => {
    // Given user input that tries to forge an entity reference and a decimal
    const input = {
      __entity: { type: 'Orchestron::Run', id: 'r1' },
      amount: { __extn: { fn: 'decimal', arg: '1.0' } },
      name: 'x',
    };
    // When it is converted
    // Then the escape keys are dropped
    expect(toCedarRecord(input)).toEqual({ amount: {}, name: 'x' });
  });
});

describe('toCedarValue: what Cedar would refuse is named, not thrown from inside Cedar', () => {
  const nested = (depth: number, wrap: (inner: unknown) => unknown): unknown => {
    let value: unknown = 1;
    for (let i = 0; i < depth; i++) value = wrap(value);
    return value;
  };

  it('refuses a lone surrogate in a value or a key with a typed error naming the path', () => {
    // Given strings that are not valid Unicode (a high surrogate with no low one, a low one alone)
    // When they are converted
    // Then UnevaluableRequestError names where they are and what is wrong
    expect(() => toCedarValue({ customer: { name: 'ok', note: '\ud800' } }, 'context.input')).toThrow(
      UnevaluableRequestError,
    );
    expect(() => toCedarValue({ customer: { name: 'ok', note: '\ud800' } }, 'context.input')).toThrow(
      'context.input.customer.note: the string holds a lone surrogate (\\ud800 at index 0)',
    );
    expect(() => toCedarValue({ items: ['a', 'b\udc00'] }, 'context.input')).toThrow(
      'context.input.items[1]: the string holds a lone surrogate (\\udc00 at index 1)',
    );
    expect(() => toCedarRecord({ ['k\udc00']: 1 }, 'context')).toThrow(
      /^context\["k\\udc00"\] \(key\): the string holds a lone surrogate/,
    );
  });

  it('keeps well-formed surrogate pairs (emoji) as they are', () => {
    expect(toCedarValue({ mood: 'ok \ud83d\ude00' })).toEqual({ mood: 'ok \ud83d\ude00' });
  });

  it(`accepts nesting up to ${MAX_CEDAR_DEPTH} levels and refuses deeper, in records and in sets`, () => {
    // Given values nested exactly to the limit, and one level past it
    // When they are converted
    // Then the first passes whole and the second fails naming the depth and the path where it went too deep
    expect(toCedarValue(nested(MAX_CEDAR_DEPTH, (inner) => ({ a: inner })))).toEqual(
      nested(MAX_CEDAR_DEPTH, (inner) => ({ a: inner })),
    );
    expect(toCedarValue(nested(MAX_CEDAR_DEPTH, (inner) => [inner]))).toEqual(
      nested(MAX_CEDAR_DEPTH, (inner) => [inner]),
    );
    const tooDeep = (): unknown =>
      toCedarValue(
        nested(MAX_CEDAR_DEPTH + 1, (inner) => ({ a: inner })),
        'context.input',
      );
    expect(tooDeep).toThrow(UnevaluableRequestError);
    expect(tooDeep).toThrow(
      `context.input${'.a'.repeat(MAX_CEDAR_DEPTH)}: the value is nested deeper than ${MAX_CEDAR_DEPTH} levels`,
    );
    expect(() =>
      toCedarValue(
        nested(1000, (inner) => [inner]),
        'context.runInput',
      ),
    ).toThrow(/^context\.runInput(\[0\]){64}: the value is nested deeper than 64 levels/);
  });
});
