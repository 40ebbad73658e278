import { describe, expect, it } from '@jest/globals';
import { toCedarRecord, toCedarValue } from './cedar-value.ts';

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
    const input = { __entity: { type: 'Orchestron::Run', id: 'r1' }, amount: { __extn: { fn: 'decimal', arg: '1.0' } }, name: 'x' };
    // When it is converted
    // Then the escape keys are dropped
    expect(toCedarRecord(input)).toEqual({ amount: {}, name: 'x' });
  });
});
