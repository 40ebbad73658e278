import { describe, expect, it } from '@jest/globals';
import { RequestError } from './errors.ts';
import { parseJsonBody } from './json-body.ts';

const refusal = (text: string): RequestError => {
  try {
    parseJsonBody(text);
  } catch (error) {
    if (error instanceof RequestError) return error;
    throw error;
  }
  throw new Error(`accepted ${text.slice(0, 40)}`);
};

describe('parseJsonBody', () => {
  it('parses a JSON body, keys like "constructor" with plain values included', () => {
    expect(parseJsonBody('{"definitionId":"x","input":{"constructor":"Bob","n":[1,2]}}')).toEqual({
      definitionId: 'x',
      input: { constructor: 'Bob', n: [1, 2] },
    });
  });

  it('refuses each limit as REQUEST.INVALID with the limit in details', () => {
    expect(refusal(`{"a":${'['.repeat(10_000)}${']'.repeat(10_000)}}`)).toMatchObject({
      code: 'REQUEST.INVALID',
      message: 'the body nests deeper than 64 levels',
      details: { limit: 'depth', max: 64 },
    });
    expect(refusal('{"definition":{"version":1e309}}')).toMatchObject({
      message: '$.definition.version is not a finite number',
      details: { limit: 'finite', path: '$.definition.version' },
    });
    expect(refusal('{"__proto__":{}}').details).toEqual({ limit: 'key', key: '__proto__', path: '$.__proto__' });
    expect(refusal('{"a":1,}')).toMatchObject({
      details: { limit: 'syntax' },
      message: expect.stringMatching(/^the body is not JSON: .*position 7/),
    });
    expect(refusal('').message).toMatch(/^the body is empty/);
  });

  it('refuses an object of more than 10,000 keys, naming where; 10,000 are fine', () => {
    const object = (n: number): string =>
      JSON.stringify({ input: Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i])) });
    expect(refusal(object(200_000))).toMatchObject({
      message: '$.input has 200000 keys; an object may have at most 10000',
      details: { limit: 'keys', max: 10_000, path: '$.input' },
    });
    expect(Object.keys((parseJsonBody(object(10_000)) as { input: object }).input)).toHaveLength(10_000);
  });
});
