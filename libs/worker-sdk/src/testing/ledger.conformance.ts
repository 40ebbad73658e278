import { afterEach, describe, expect, it } from '@jest/globals';
import type { ClaimContext, IdempotencyLedger, Outcome } from '../ledger.ts';

export interface LedgerUnderTest {
  readonly ledger: IdempotencyLedger;
  /** A second ledger on the same storage, as another process would open it (the same object for a ledger in memory). */
  readonly twin: IdempotencyLedger;
  close(): Promise<void>;
}

const context = (key: string, instance = 'instance-a'): ClaimContext => {
  const [runId = key, stepId = 'step', attempt = '1'] = key.split('/');
  return { runId, stepId, attempt: Number(attempt) || 1, phase: 'execute', worker: 'conformance', instance };
};

/**
 * What every IdempotencyLedger promises, run against each adapter: the in-memory one in unit tests, the
 * database ones against real servers. `open` is called before each test and must return empty storage.
 */
export function describeIdempotencyLedgerConformance(
  name: string,
  open: () => Promise<LedgerUnderTest>,
  options: { readonly recordsExecutions?: boolean } = {},
): void {
  describe(`idempotency ledger conformance: ${name}`, () => {
    const opened: LedgerUnderTest[] = [];
    const fresh = async (): Promise<LedgerUnderTest> => {
      const under = await open();
      opened.push(under);
      return under;
    };
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((under) => under.close()));
    });

    it('claims a new key once; a second claim finds it running', async () => {
      const { ledger } = await fresh();
      expect((await ledger.claim('run-1/a/1', context('run-1/a/1'))).state).toBe('claimed');
      expect(await ledger.claim('run-1/a/1', context('run-1/a/1', 'instance-b'))).toEqual({ state: 'running' });
      expect((await ledger.claim('run-1/a/2', context('run-1/a/2'))).state).toBe('claimed');
    });

    it('returns the stored outcome, exactly as completed, to every later claim', async () => {
      const { ledger, twin } = await fresh();
      const success: Outcome = {
        ok: true,
        output: { id: 'x-1', nested: { list: [1, 'two', null, true] }, text: 'naïve ✓' },
      };
      const failure: Outcome = {
        ok: false,
        error: { code: 'PAYMENTS.DECLINED', message: 'card declined', retryable: false },
      };
      const nothing: Outcome = { ok: true, output: null };
      for (const [key, outcome] of [
        ['run-2/a/1', success],
        ['run-2/b/1', failure],
        ['run-2/c/1', nothing],
      ] as const) {
        expect((await ledger.claim(key, context(key))).state).toBe('claimed');
        await ledger.complete(key, outcome);
        expect(await ledger.claim(key, context(key))).toEqual({ state: 'done', outcome });
        expect(await twin.claim(key, context(key, 'instance-b'))).toEqual({ state: 'done', outcome });
      }
    });

    it('gives each key to exactly one of two ledgers claiming it at the same time', async () => {
      const { ledger, twin } = await fresh();
      const keys = Array.from({ length: 40 }, (_, i) => `run-race/step-${i}/1`);
      const results = await Promise.all(
        keys.flatMap((key) => [
          ledger.claim(key, context(key, 'instance-a')),
          twin.claim(key, context(key, 'instance-b')),
        ]),
      );
      for (let i = 0; i < keys.length; i++) {
        const pair = [results[2 * i]?.state, results[2 * i + 1]?.state].sort();
        expect({ key: keys[i], pair }).toEqual({ key: keys[i], pair: ['claimed', 'running'] });
      }
    });

    if (options.recordsExecutions) {
      it('records executions without touching claims', async () => {
        const { ledger } = await fresh();
        expect(typeof ledger.recordExecution).toBe('function');
        await ledger.recordExecution?.('run-3/a/1', context('run-3/a/1'));
        expect((await ledger.claim('run-3/a/1', context('run-3/a/1'))).state).toBe('claimed');
      });
    }
  });
}
