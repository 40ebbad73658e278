import { describe, expect, it } from '@jest/globals';
import { parseStepEventMessage, WireFormatError, wireParser } from './index.ts';

const completed = (output: unknown) => ({
  type: 'step.completed',
  runId: 'r-1',
  stepId: 'a',
  attempt: 1,
  phase: 'execute',
  output,
});
const nested = (levels: number): unknown => {
  let value: unknown = 'leaf';
  for (let i = 0; i < levels; i++) value = [value];
  return value;
};
const refusal = (parse: (value: unknown) => unknown, value: unknown): WireFormatError => {
  try {
    parse(value);
  } catch (error) {
    if (error instanceof WireFormatError) return error;
    throw error;
  }
  throw new Error('accepted');
};

describe('wireParser limits', () => {
  it('accepts a message within the depth limit', () => {
    // A run's input may nest 64 deep (the edge's limit); a message wraps it, and gets twice the room.
    expect(parseStepEventMessage(completed(nested(120)))).toEqual(completed(nested(120)));
  });

  it('refuses a message nested deeper than 128 with WIRE.INVALID naming the limit and where', () => {
    const error = refusal(parseStepEventMessage, completed(nested(10_000)));
    expect(error.code).toBe('WIRE.INVALID');
    expect(error.message).toMatch(
      /^not a valid step event: the message nests deeper than 128 levels \(at \$\.output(\[0\])+\)$/,
    );
  });

  it('refuses a non-finite number in a decoded message, naming its path', () => {
    expect(refusal(parseStepEventMessage, completed({ total: Number.POSITIVE_INFINITY })).message).toBe(
      'not a valid step event: $.output.total is not a finite number',
    );
  });

  it('takes a configured depth limit', () => {
    const shallow = wireParser<unknown>({ type: 'object' }, 'probe', { maxDepth: 2 });
    expect(shallow({ a: { b: 1 } })).toEqual({ a: { b: 1 } });
    expect(refusal(shallow, { a: { b: {} } }).message).toBe(
      'not a valid probe: the message nests deeper than 2 levels (at $.a.b)',
    );
  });
});

describe('usage on a step report', () => {
  const usage = { model: 'm-1', inputTokens: 10, outputTokens: 2, cost: { amount: 0.01, currency: 'USD' } };

  it('is accepted on step.completed and step.failed', () => {
    expect(parseStepEventMessage({ ...completed(null), usage })).toMatchObject({ usage });
    const failed = { ...completed(undefined), type: 'step.failed', error: { message: 'x' }, usage };
    expect(parseStepEventMessage(failed)).toMatchObject({ usage });
  });

  it('is refused, naming the field, when a worker reports what no call could have used', () => {
    for (const [bad, problem] of [
      [{ ...usage, inputTokens: -5 }, '/usage/inputTokens must be >= 0'],
      [{ ...usage, outputTokens: 1e12 }, '/usage/outputTokens must be <= 1000000000'],
      [{ ...usage, cost: { amount: 1, currency: 'usd' } }, '/usage/cost/currency must match pattern'],
      [{ ...usage, cost: { amount: -1, currency: 'USD' } }, '/usage/cost/amount must be >= 0'],
      [{ inputTokens: 1 }, "/usage must have required property 'outputTokens'"],
      [{ ...usage, tip: 1 }, '/usage must NOT have additional properties'],
    ] as const)
      expect(refusal(parseStepEventMessage, { ...completed(null), usage: bad }).message).toContain(problem);
  });
});
