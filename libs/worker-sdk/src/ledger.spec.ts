import { describe, expect, it } from '@jest/globals';
import { createMemoryLedger } from './index.ts';
import type { ClaimContext } from './index.ts';
import { describeIdempotencyLedgerConformance } from './testing/index.ts';

describeIdempotencyLedgerConformance('memory', async () => {
  const ledger = createMemoryLedger();
  return { ledger, twin: ledger, close: async () => undefined };
});

const ctx: ClaimContext = { runId: 'r', stepId: 's', attempt: 1, phase: 'execute', worker: 'w', instance: 'i' };

describe('createMemoryLedger', () => {
  it('evicts the longest-finished outcomes beyond its capacity, never a running claim', async () => {
    const ledger = createMemoryLedger({ capacity: 2 });
    await ledger.claim('running', ctx);
    for (const key of ['a', 'b', 'c']) {
      await ledger.claim(key, ctx);
      await ledger.complete(key, { ok: true, output: key });
    }
    expect(ledger.size).toBe(2);
    expect(await ledger.claim('running', ctx)).toEqual({ state: 'running' });
    expect(await ledger.claim('c', ctx)).toEqual({ state: 'done', outcome: { ok: true, output: 'c' } });
    expect(await ledger.claim('a', ctx)).toEqual({ state: 'claimed' });
  });

  it('rejects a capacity that is not a positive integer, naming it', () => {
    expect(() => createMemoryLedger({ capacity: 0 })).toThrow(/capacity must be a positive integer/);
  });
});
