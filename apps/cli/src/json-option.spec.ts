import { describe, expect, it, beforeAll, afterAll } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from './cli.errors.ts';
import { parseIntegerOption, parseJsonOption, parseSecondsOption } from './json-option.ts';

function usageError(fn: () => unknown): UsageError {
  try {
    fn();
  } catch (error) {
    if (error instanceof UsageError) return error;
    throw error;
  }
  throw new Error('expected a UsageError');
}

describe('parseJsonOption', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'orchestron-cli-'));
    writeFileSync(join(dir, 'input.json'), '{"email":"a@b.c","manager":true}\n');
    writeFileSync(join(dir, 'broken.json'), '{"email":');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('parses JSON text', () => {
    expect(parseJsonOption('{"email":"a@b.c"}', '--input', dir)).toEqual({ email: 'a@b.c' });
    expect(parseJsonOption('42', '--input', dir)).toBe(42);
  });

  it('reads @file relative to the working directory', () => {
    expect(parseJsonOption('@input.json', '--input', dir)).toEqual({ email: 'a@b.c', manager: true });
    expect(parseJsonOption(`@${join(dir, 'input.json')}`, '--input', '/')).toEqual({ email: 'a@b.c', manager: true });
  });

  it('rejects bad JSON text, naming the option', () => {
    const error = usageError(() => parseJsonOption("{email: 'a'}", '--input', dir));
    expect(error.message).toMatch(/^--input: the value is not valid JSON/);
    expect(error.message).toContain('--input \'{"email":"a@b.c"}\'');
  });

  it('rejects a file that is not JSON, naming the option and the file', () => {
    expect(usageError(() => parseJsonOption('@broken.json', '--output', dir)).message).toMatch(
      /^--output: broken\.json is not valid JSON/,
    );
  });

  it('rejects a missing file and a bare @', () => {
    expect(usageError(() => parseJsonOption('@missing.json', '--input', dir)).message).toBe(
      '--input: cannot read missing.json: ENOENT',
    );
    expect(usageError(() => parseJsonOption('@', '--input', dir)).message).toMatch(/must be followed by a file path/);
  });
});

describe('number options', () => {
  it('accepts whole numbers at or above the minimum', () => {
    expect(parseIntegerOption('3', '--version', 1)).toBe(3);
    expect(usageError(() => parseIntegerOption('0', '--version', 1)).message).toMatch(
      /--version must be a whole number of at least 1/,
    );
    expect(usageError(() => parseIntegerOption('1.5', '--limit', 1)).message).toMatch(/--limit/);
    expect(usageError(() => parseIntegerOption('abc', '--limit', 1)).message).toMatch(/--limit/);
  });

  it('accepts positive seconds', () => {
    expect(parseSecondsOption('0.5', '--timeout')).toBe(0.5);
    expect(usageError(() => parseSecondsOption('-1', '--timeout')).message).toMatch(
      /--timeout must be a positive number/,
    );
  });
});
