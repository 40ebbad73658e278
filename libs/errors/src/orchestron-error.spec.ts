import { describe, expect, it } from '@jest/globals';
import { ALL_ERROR_CODES, ERROR_CODES, isErrorCode, OrchestronError, retryClassOf } from './index.ts';

describe('OrchestronError', () => {
  it('takes its retry class from its code', () => {
    expect(new OrchestronError('STORE.UNAVAILABLE', 'down').retryable).toBe(true);
    expect(new OrchestronError('RUN.NOT_FOUND', 'no such run').retryable).toBe(false);
  });

  it('is terminal for a code outside ErrorCode unless told otherwise', () => {
    expect(new OrchestronError<string>('CARD.DECLINED', 'declined').retryable).toBe(false);
    expect(new OrchestronError<string>('CARD.DECLINED', 'declined', { retryable: true }).retryable).toBe(true);
  });

  it('is an Error with its code, message, name and stack', () => {
    const error = new OrchestronError('COMMAND.INVALID', 'bad command');
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({ name: 'OrchestronError', code: 'COMMAND.INVALID', message: 'bad command' });
    expect(error.stack).toContain('bad command');
  });

  it('keeps the cause chain', () => {
    const root = new Error('ECONNREFUSED');
    const middle = new OrchestronError('STORE.UNAVAILABLE', 'store down', { cause: root });
    const top = new OrchestronError('ORCHESTRATOR.PENDING', 'not recorded yet', { cause: middle });
    expect(top.cause).toBe(middle);
    expect(middle.cause).toBe(root);
  });

  it('has neither `cause` nor `details` when given none', () => {
    const error = new OrchestronError('RUN.NOT_FOUND', 'no such run');
    expect('cause' in error).toBe(false);
    expect('details' in error).toBe(false);
  });

  it('carries details when given them', () => {
    expect(new OrchestronError('RUN.NOT_FOUND', 'no such run', { details: { runId: 'r1' } }).details).toEqual({
      runId: 'r1',
    });
  });
});

describe('ErrorCode', () => {
  it('lists every code once, each with a retry class', () => {
    expect(new Set(ALL_ERROR_CODES).size).toBe(ALL_ERROR_CODES.length);
    for (const code of ALL_ERROR_CODES) expect(['retryable', 'terminal']).toContain(retryClassOf(code));
    expect(ALL_ERROR_CODES).toEqual(Object.keys(ERROR_CODES));
  });

  it('knows its own codes and no others', () => {
    expect(isErrorCode('RUN.NOT_FOUND')).toBe(true);
    expect(isErrorCode('CARD.DECLINED')).toBe(false);
    expect(isErrorCode('STEP.TIMED_OUT')).toBe(false);
    expect(isErrorCode('toString')).toBe(false);
  });
});
