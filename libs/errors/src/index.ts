export { ALL_ERROR_CODES, ERROR_CODES, isErrorCode, retryClassOf } from './codes.ts';
export type { ErrorCode, RetryClass } from './codes.ts';
export { OrchestronError } from './orchestron-error.ts';
export type { OrchestronErrorOptions } from './orchestron-error.ts';
