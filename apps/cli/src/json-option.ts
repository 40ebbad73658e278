import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError } from './cli.errors.ts';

/**
 * Reads an option that takes JSON: either the JSON text itself or `@path` to a file holding it.
 * Errors name the option, so `--input` and `--output` problems are told apart.
 */
export function parseJsonOption(value: string, option: string, cwd: string): unknown {
  let text = value;
  let source = 'the value';
  if (value.startsWith('@')) {
    const path = value.slice(1);
    if (path === '') throw new UsageError(`${option}: "@" must be followed by a file path, e.g. ${option} @input.json`);
    try {
      text = readFileSync(resolve(cwd, path), 'utf8');
    } catch (error) {
      throw new UsageError(
        `${option}: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      );
    }
    source = path;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new UsageError(
      `${option}: ${source} is not valid JSON (${(error as Error).message}). Pass JSON text, e.g. ${option} '{"email":"a@b.c"}', or ${option} @file.json`,
    );
  }
}

/** A whole number option such as `--limit` or `--version`. */
export function parseIntegerOption(value: string, option: string, min: number): number {
  const n = Number(value);
  if (!/^\s*-?\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < min) {
    throw new UsageError(
      `${option} must be a whole number${min > 0 ? ` of at least ${min}` : ''}, got ${JSON.stringify(value)}`,
    );
  }
  return n;
}

/** A duration in (possibly fractional) seconds, such as `--timeout 30` or `--timeout 0.5`. */
export function parseSecondsOption(value: string, option: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0)
    throw new UsageError(`${option} must be a positive number of seconds, got ${JSON.stringify(value)}`);
  return n;
}
