export { createWorker, DEFAULT_REPORT_STARTED_AFTER_MS } from './worker.ts';
export type { StepContext, StepHandler, Worker, WorkerLogger, WorkerOptions } from './worker.ts';
export { createMemoryLedger } from './ledger.ts';
export { LEDGER_RETRY } from './patient-ledger.ts';
export type { LedgerRetry } from './patient-ledger.ts';
export type { ClaimContext, ClaimResult, IdempotencyLedger, Outcome } from './ledger.ts';
export { AttemptCancelledError, RetryableError, TerminalError } from './errors.ts';
export type { CancelCause } from './errors.ts';
export { WORKER_CHECK_ACTION, workerCheckHandler } from './worker-check.ts';
