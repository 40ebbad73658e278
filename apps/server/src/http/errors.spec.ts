import { describe, expect, it } from '@jest/globals';
import { DefinitionInvalidError } from '@orchestron/definitions';
import { ALL_ERROR_CODES, OrchestronError, retryClassOf } from '@orchestron/errors';
import {
  EventStoreClosedError,
  EventStoreUnavailableError,
  ExpectedVersionConflictError,
} from '@orchestron/event-store';
import { DomainError } from '@orchestron/workflow-core';
import { RequestError, statusFor, toApiError } from './errors.ts';

describe('STATUS_BY_CODE', () => {
  it.each(ALL_ERROR_CODES)('gives %s an HTTP error status', (code) => {
    const status = statusFor(code);
    expect(Number.isInteger(status)).toBe(true);
    expect(status).toBeGreaterThanOrEqual(400);
    expect(status).toBeLessThan(600);
  });

  it('answers every retryable code with 503, and only those: an outage or a conflict is never a 500', () => {
    const retryable = ALL_ERROR_CODES.filter((code) => retryClassOf(code) === 'retryable');
    const unavailable = ALL_ERROR_CODES.filter((code) => statusFor(code) === 503);
    expect(unavailable).toEqual(retryable);
    expect(retryable).toEqual(
      expect.arrayContaining([
        'STORE.UNAVAILABLE',
        'STORE.EXPECTED_VERSION_CONFLICT',
        'BUS.UNAVAILABLE',
        'ORCHESTRATOR.PENDING',
      ]),
    );
  });

  it('answers INTERNAL with 500', () => {
    expect(statusFor('INTERNAL')).toBe(500);
  });
});

describe('toApiError', () => {
  it('keeps the code, message, retry class and details of a known error', () => {
    expect(toApiError(new DomainError('RUN.NOT_FOUND', 'run r1 not found', { runId: 'r1' }))).toEqual({
      code: 'RUN.NOT_FOUND',
      message: 'run r1 not found',
      retryable: false,
      details: { runId: 'r1' },
    });
    expect(toApiError(new RequestError('REQUEST.INVALID', 'bad'))).toEqual({
      code: 'REQUEST.INVALID',
      message: 'bad',
      retryable: false,
    });
  });

  it('answers a store that is away as retryable STORE.UNAVAILABLE, with its status 503', () => {
    const api = toApiError(
      new EventStoreUnavailableError('postgres event store could not append', { cause: new Error('ECONNREFUSED') }),
    );
    expect(api).toMatchObject({ code: 'STORE.UNAVAILABLE', retryable: true });
    expect(statusFor(api.code)).toBe(503);
    expect(statusFor(toApiError(new ExpectedVersionConflictError('run-1', 3, 4)).code)).toBe(503);
  });

  it('answers a broker that is away as retryable BUS.UNAVAILABLE with 503, where it used to be a 500 INTERNAL', () => {
    const api = toApiError(
      new OrchestronError('BUS.UNAVAILABLE', 'publish to orchestron.workflow.starts: Kafka is unavailable'),
    );
    expect(api).toMatchObject({ code: 'BUS.UNAVAILABLE', retryable: true });
    expect(statusFor(api.code)).toBe(503);
  });

  it("puts a definition's issues in details", () => {
    const issues = [{ path: '/steps/0', message: 'needs a worker' }];
    expect(toApiError(new DefinitionInvalidError(issues)).details).toEqual({ issues });
  });

  it('answers anything else as a 500 INTERNAL without its detail', () => {
    const internal = { code: 'INTERNAL', message: 'internal error; see the server log', retryable: true };
    expect(toApiError(new Error('secret detail'))).toEqual(internal);
    expect(toApiError('thrown string')).toEqual(internal);
    expect(toApiError(null)).toEqual(internal);
    // Duck typing no longer counts: only the error family is trusted with a code.
    expect(toApiError({ code: 'RUN.NOT_FOUND', message: 'looks like one', retryable: false })).toEqual(internal);
    // A code outside ErrorCode (a handler's own) is not an API error either.
    expect(toApiError(new OrchestronError<string>('CARD.DECLINED', 'declined'))).toEqual(internal);
  });

  it('answers a code that is not an API error (the store closed under a request) as INTERNAL', () => {
    expect(toApiError(new EventStoreClosedError())).toEqual({
      code: 'INTERNAL',
      message: 'internal error; see the server log',
      retryable: true,
    });
  });
});
