import { RE2JS } from 're2js';

/**
 * CEL's `matches` on RE2 (re2js, pure JS): matching time is linear in the input, so a pattern
 * like `^(a+)+$` cannot backtrack for seconds the way JS's RegExp does. RE2 refuses what needs
 * backtracking (backreferences, lookaround); such a pattern is an error, never a silent fallback.
 */

/** Characters of pattern; RE2's automaton grows with the pattern, so a bound keeps compiling cheap. */
export const MAX_PATTERN_LENGTH = 1_000;
/** Characters of input that cost one unit to match: re2js takes up to ~25 ns a character (measured on `^(a+)+$`), a node ~200 ns. */
export const CHARS_PER_MATCH_UNIT = 8;
const CACHE_SIZE = 256;

/** A pattern RE2 will not take; `reason` says why in words an author can act on. */
export class RegexRefused extends Error {
  readonly pattern: string;
  constructor(pattern: string, reason: string) {
    super(`regular expression ${JSON.stringify(pattern)} is not supported: ${reason}`);
    this.pattern = pattern;
  }
}

// Bounded, least-recently-used: an expression over many distinct patterns cannot grow it.
const compiled = new Map<string, RE2JS>();

export function compileRegex(pattern: string): RE2JS {
  const hit = compiled.get(pattern);
  if (hit) {
    compiled.delete(pattern);
    compiled.set(pattern, hit);
    return hit;
  }
  if (pattern.length > MAX_PATTERN_LENGTH)
    throw new RegexRefused(pattern.slice(0, 40), `longer than ${MAX_PATTERN_LENGTH} characters`);
  let regex: RE2JS;
  try {
    regex = RE2JS.compile(pattern);
  } catch (error) {
    throw new RegexRefused(
      pattern,
      `${firstLine(error)} (matches uses RE2, which runs in linear time and has no backreferences or lookaround)`,
    );
  }
  if (compiled.size >= CACHE_SIZE) compiled.delete(compiled.keys().next().value as string);
  compiled.set(pattern, regex);
  return regex;
}

/** CEL `matches`: true when the pattern matches any part of the text (RE2's partial match). */
export function regexMatches(text: string, pattern: string): boolean {
  return compileRegex(pattern).test(text);
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
}
