import { describe, expect, it } from '@jest/globals';
import { DefinitionInvalidError, parseDefinitionText } from './index.ts';

/** Nine aliases of nine aliases, nine levels deep: 9^9 strings once expanded. */
const ALIAS_BOMB = [
  'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
  ...'bcdefghi'.split('').map((name, i) => {
    const previous = 'abcdefghi'[i] ?? 'a';
    return `${name}: &${name} [${Array(9).fill(`*${previous}`).join(',')}]`;
  }),
].join('\n');

function refusal(text: string): DefinitionInvalidError {
  try {
    parseDefinitionText(text, 'hostile.yaml');
  } catch (error) {
    if (error instanceof DefinitionInvalidError) return error;
    throw error;
  }
  throw new Error('expected a DefinitionInvalidError, but the text parsed');
}

describe('parseDefinitionText refuses hostile text as an invalid definition, never with another error', () => {
  it('refuses an alias bomb without expanding it', () => {
    const started = performance.now();
    const error = refusal(ALIAS_BOMB);
    expect(error.code).toBe('DEFINITION.INVALID');
    expect(error.issues).toEqual([
      {
        path: '',
        message:
          'YAML refused: Excessive alias count indicates a resource exhaustion attack (at most 50 alias expansions)',
      },
    ]);
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('refuses YAML nested deeper than a definition may be, in flow and in block style', () => {
    expect(refusal(`a: ${'['.repeat(100)}${']'.repeat(100)}`).issues[0]?.message).toMatch(
      /^the definition nests deeper than 64 levels/,
    );
    const block = Array.from({ length: 100 }, (_, i) => `${' '.repeat(i)}k:`).join('\n');
    expect(refusal(`${block} 1`).issues[0]?.message).toMatch(/^the definition nests deeper than 64 levels/);
    // Deeper than the parser's own stack: it says so itself.
    expect(refusal(`a: ${'['.repeat(20_000)}${']'.repeat(20_000)}`).issues[0]?.message).toMatch(
      /^YAML RESOURCE_EXHAUSTION|nests deeper/,
    );
  });

  it('refuses JSON nested too deep before parsing it, and keeps naming the syntax error of bad JSON', () => {
    expect(refusal(`{"a":${'['.repeat(100_000)}${']'.repeat(100_000)}}`).issues).toEqual([
      { path: '', message: 'the definition nests deeper than 64 levels' },
    ]);
    expect(refusal('{"id": "x",').issues[0]?.message).toMatch(/^not valid JSON: /);
  });

  it('refuses prototype keys and numbers JSON cannot hold', () => {
    expect(refusal('{"id":"x","__proto__":{"polluted":true}}').issues[0]?.message).toContain('"__proto__"');
    expect(refusal('id: x\nsteps:\n  a:\n    __proto__: { polluted: true }\n').issues[0]?.message).toContain(
      '"__proto__"',
    );
    expect(refusal('id: x\nsteps:\n  a:\n    input: { n: .inf }\n').issues[0]?.message).toContain(
      'is not a finite number',
    );
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('still reads a definition that uses a few aliases', () => {
    const text =
      'id: x\nversion: 1\nretry: &r { maxAttempts: 2 }\nsteps:\n  a: { worker: w, retry: *r }\n  b: { worker: w, retry: *r }\n';
    expect(parseDefinitionText(text)).toMatchObject({ steps: { a: { retry: { maxAttempts: 2 } } } });
  });
});
