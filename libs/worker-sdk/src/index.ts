export { createWorker } from './worker.ts';
export type { IdempotencyLedger, Outcome, StepContext, StepHandler, Worker, WorkerOptions } from './worker.ts';
export { RetryableError, TerminalError } from './errors.ts';
