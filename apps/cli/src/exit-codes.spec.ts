import { describe, expect, it } from '@jest/globals';
import { ApiError, LocalDefinitionError, ServerUnreachableError, UsageError, WaitTimeoutError } from './cli.errors.ts';
import { ExitCode, exitCodeFor, outcomeOfError } from './exit-codes.ts';
import type { RunStatus } from './api.types.ts';

const apiError = (httpStatus: number, code: string) =>
  new ApiError({ httpStatus, code, message: 'm', retryable: false, details: null, url: 'http://x/v1' });

describe('exitCodeFor', () => {
  it.each<[RunStatus, number]>([
    ['completed', 0],
    ['failed', 1],
    ['compensated', 1],
    ['cancelled', 1],
    ['needs_operator', 3],
    ['running', 0],
    ['paused', 0],
    ['compensating', 0],
  ])('a run that is %s exits %i', (status, code) => {
    expect(exitCodeFor({ kind: 'run', status })).toBe(code);
  });

  it('treats waiting for a human like needing an operator', () => {
    expect(exitCodeFor({ kind: 'waiting_for_human' })).toBe(ExitCode.NEEDS_OPERATOR);
  });

  it('exits 1 when worker-check finds a violation, like a run that failed', () => {
    expect(exitCodeFor({ kind: 'check_failed' })).toBe(ExitCode.RUN_FAILED);
  });

  it('exits 0 for a command that succeeded and 2 for usage errors', () => {
    expect(exitCodeFor({ kind: 'succeeded' })).toBe(0);
    expect(exitCodeFor({ kind: 'usage_error' })).toBe(2);
  });

  it.each<[number, string, number]>([
    [400, 'DEFINITION.INVALID', 2],
    [400, 'RUN.INPUT_INVALID', 2],
    [400, 'REQUEST.INVALID', 2],
    [422, 'COMMAND.INVALID', 2],
    [404, 'RUN.NOT_FOUND', 2],
    [404, 'STEP.NOT_FOUND', 2],
    [409, 'STEP.ALREADY_TERMINAL', 2],
    [409, 'RUN.NOT_PAUSED', 2],
    [401, 'AUTH.UNAUTHENTICATED', 2],
    [403, 'AUTH.FORBIDDEN', 2],
    [500, 'INTERNAL', 4],
    [503, 'STORE.UNAVAILABLE', 4],
  ])('an API error %i %s exits %i', (httpStatus, code, exit) => {
    expect(exitCodeFor({ kind: 'api_error', httpStatus, code })).toBe(exit);
  });

  it('exits 4 when the server cannot be reached or the wait times out', () => {
    expect(exitCodeFor({ kind: 'unreachable' })).toBe(4);
    expect(exitCodeFor({ kind: 'timed_out' })).toBe(4);
  });
});

describe('outcomeOfError', () => {
  it('maps each CLI error to its outcome', () => {
    expect(outcomeOfError(apiError(409, 'STEP.ALREADY_TERMINAL'))).toEqual({
      kind: 'api_error',
      httpStatus: 409,
      code: 'STEP.ALREADY_TERMINAL',
    });
    expect(outcomeOfError(new ServerUnreachableError('http://127.0.0.1:3000', 'ECONNREFUSED'))).toEqual({
      kind: 'unreachable',
    });
    expect(outcomeOfError(new WaitTimeoutError('r', 5, 'running'))).toEqual({ kind: 'timed_out' });
    expect(outcomeOfError(new UsageError('bad'))).toEqual({ kind: 'usage_error' });
    expect(outcomeOfError(new LocalDefinitionError('f.yaml', []))).toEqual({ kind: 'usage_error' });
  });

  it('treats anything else as an internal error, which does not exit 0', () => {
    const outcome = outcomeOfError(new TypeError('boom'));
    expect(outcome).toEqual({ kind: 'internal_error' });
    expect(exitCodeFor(outcome)).toBe(4);
  });
});
