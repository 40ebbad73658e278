import pRetry from 'p-retry';
import type { ClaimContext, ClaimResult, IdempotencyLedger, Outcome } from './ledger.ts';

/** How a ledger call that failed is tried again (p-retry's options). */
export interface LedgerRetry {
  readonly retries: number;
  readonly minTimeout: number;
  readonly maxTimeout: number;
  readonly factor: number;
  readonly randomize: boolean;
}

/**
 * About 6 s in all: longer than a database's connections being cut and re-made (0.1–1 s in the fault suite), shorter
 * than a typical attempt timeout, so an outage that lasts is still reported as one (WORKER.LEDGER_UNAVAILABLE).
 */
export const LEDGER_RETRY: LedgerRetry = { retries: 5, minTimeout: 100, maxTimeout: 2_000, factor: 2, randomize: true };

/** Told of each failed call that will be tried again. */
export type LedgerRetryListener = (call: 'claim' | 'complete' | 'recordExecution', key: string, error: unknown) => void;

/**
 * The ledger with each call tried again on failure, in place. A ledger throws only when it cannot answer (its
 * contract: a conflict is a `running` or `done` answer, never an error), so every failure is worth a retry:
 * without it a database blip before the handler ran was reported as the step's failure and spent an attempt (the
 * fault suite found a run failing with PostgreSQL's 57P01 as its error). A claim whose answer was lost but which
 * did commit comes back `running`: the worker then stays silent and the attempt times out, never runs twice.
 */
export function patientLedger(
  ledger: IdempotencyLedger,
  onRetry: LedgerRetryListener,
  retry: LedgerRetry = LEDGER_RETRY,
): IdempotencyLedger {
  const patiently = <T>(call: 'claim' | 'complete' | 'recordExecution', key: string, work: () => Promise<T>) =>
    pRetry(work, {
      ...retry,
      onFailedAttempt: ({ error, retriesLeft }) => {
        if (retriesLeft > 0) onRetry(call, key, error);
      },
    });
  const record = ledger.recordExecution?.bind(ledger);
  return {
    claim: (key: string, context: ClaimContext): Promise<ClaimResult> =>
      patiently('claim', key, () => ledger.claim(key, context)),
    complete: (key: string, outcome: Outcome): Promise<void> =>
      patiently('complete', key, () => ledger.complete(key, outcome)),
    ...(record === undefined
      ? {}
      : {
          recordExecution: (key: string, context: ClaimContext): Promise<void> =>
            patiently('recordExecution', key, () => record(key, context)),
        }),
  };
}

/** The ledger could not answer (after patientLedger's retries): nothing ran, so the orchestrator may try again. */
export function ledgerUnavailable(worker: string, what: string, error: unknown): Outcome {
  return {
    ok: false,
    error: {
      code: 'WORKER.LEDGER_UNAVAILABLE',
      message: `worker "${worker}" could not ${what} the attempt: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`,
      retryable: true,
    },
  };
}
