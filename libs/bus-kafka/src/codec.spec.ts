import { describe, expect, it } from '@jest/globals';
import { WireFormatError } from '@orchestron/bus';
import { deadLetter, decodeMessage, describeFailure } from './codec.ts';
import type { RawRecord } from './codec.ts';

const at = { topic: 'orchestron.step.events', partition: 2, offset: 41 };
const record = (value: string): RawRecord => ({
  key: Buffer.from('run-1'),
  value: Buffer.from(value, 'utf8'),
  headers: new Map(),
});

/** The reason the subscription writes on the dead letter of a message that fails to decode, as it builds it. */
const reasonFor = (value: string, maxDepth?: number): string => {
  try {
    decodeMessage(record(value), at, maxDepth);
  } catch (error) {
    expect(error).toBeInstanceOf(WireFormatError);
    return deadLetter(record(value), at, 'g', describeFailure(error)).value.reason;
  }
  throw new Error('decoded');
};

describe('decodeMessage', () => {
  it('decodes a JSON value with its key and place', () => {
    expect(decodeMessage(record('{"type":"step.started","n":[1,2.5]}'), at)).toEqual({
      key: 'run-1',
      value: { type: 'step.started', n: [1, 2.5] },
      headers: {},
      ...at,
    });
  });

  it('refuses a message nested 10,000 deep as WIRE.INVALID naming the limit, before parsing it', () => {
    const reason = reasonFor(`${'['.repeat(10_000)}${']'.repeat(10_000)}`);
    expect(reason).toBe('WireFormatError: message orchestron.step.events/2@41 nests deeper than 128 levels');
  });

  it('takes a smaller limit when given one', () => {
    expect(reasonFor('{"a":{"b":{"c":1}}}', 2)).toBe(
      'WireFormatError: message orchestron.step.events/2@41 nests deeper than 2 levels',
    );
    expect(decodeMessage(record('{"a":{"b":{"c":1}}}'), at, 3).value).toEqual({ a: { b: { c: 1 } } });
  });

  it('refuses a number JSON.parse reads as Infinity, naming its path', () => {
    expect(reasonFor('{"type":"step.completed","output":{"total":1e309}}')).toBe(
      'WireFormatError: message orchestron.step.events/2@41: $.output.total is not a finite number',
    );
  });

  it('still says "is not JSON" for bytes that are not JSON', () => {
    expect(reasonFor('{"type":')).toMatch(/^WireFormatError: message orchestron\.step\.events\/2@41 is not JSON: /);
  });

  it('has a stable code the consumer can tell', () => {
    try {
      decodeMessage(record('[1e400]'), at);
    } catch (error) {
      expect((error as WireFormatError).code).toBe('WIRE.INVALID');
      return;
    }
    throw new Error('decoded');
  });
});
