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
    expect(parseJsonBody('{"definitionId":"x","input":{"constructor":"Bob","n":[1,2]}}')).toEqual({ definitionId: 'x', input: { constructor: 'Bob', n: [1, 2] } });
  });

  it('refuses each limit as REQUEST.INVALID with the limit in details', () => {
    expect(refusal(`{"a":${'['.repeat(10_000)}${']'.repeat(10_000)}}`)).toMatchObject({ code: 'REQUEST.INVALID', message: 'the body nests deeper than 64 levels', details: { limit: 'depth', max: 64 } });
    expect(refusal('{"definition":{"version":1e309}}')).toMatchObject({ message: '$.definition.version is not a finite number', details: { limit: 'finite', path: '$.definition.version' } });
    expect(refusal('{"__proto__":{}}').details).toEqual({ limit: 'key', key: '__proto__', path: '$.__proto__' });
    expect(refusal('{"a":1,}')).toMatchObject({ details: { limit: 'syntax' }, message: expect.stringMatching(/^the body is not JSON: .*position 7/) });
    expect(refusal('').message).toMatch(/^the body is empty/);
  });
});
