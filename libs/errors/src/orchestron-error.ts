import { isErrorCode, retryClassOf } from './codes.ts';
import type { ErrorCode } from './codes.ts';

export interface OrchestronErrorOptions extends ErrorOptions {
  /**
   * Only for a code outside ErrorCode (a step handler's own) or an error relayed from elsewhere (the CLI's
   * ApiError, which says what the server said). Otherwise leave it out: the code's retry class decides.
   */
  readonly retryable?: boolean;
  readonly details?: Readonly<Record<string, unknown>>;
}

/**
 * The one base of every error Orchestron throws on purpose. `code` is stable (tests, docs, clients and the HTTP
 * edge match on it); `retryable` says what the runtime does: retry in place, or record the failure and stop.
 *
 * `C` is ErrorCode for every error of ours. It is wider only where the code is not ours to close: a step
 * handler's TerminalError('...', 'CARD.DECLINED'), or the code in a server answer the CLI relays. Note that
 * `error instanceof OrchestronError` cannot know which, so code that needs an ErrorCode checks `isErrorCode`.
 */
export class OrchestronError<C extends string = ErrorCode> extends Error {
  readonly code: C;
  readonly retryable: boolean;
  // Declared, not a field: an error without details has no `details` key at all, as before.
  declare readonly details?: Readonly<Record<string, unknown>>;

  constructor(code: C, message: string, options: OrchestronErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'OrchestronError';
    this.code = code;
    this.retryable = options.retryable ?? (isErrorCode(code) && retryClassOf(code) === 'retryable');
    if (options.details !== undefined) this.details = options.details;
  }
}
