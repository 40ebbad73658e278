import { OrchestronError } from '@orchestron/errors';

export interface PolicyProblem {
  /** The source name (file name) the problem is in. */
  readonly source: string;
  readonly message: string;
  /** 1-based line in the source, when it is known. */
  readonly line?: number;
}

/** Policy text that cannot be loaded; `errors` holds every problem found across all sources. Not retryable: fix the text. */
export class PolicyError extends OrchestronError<'POLICY.INVALID'> {
  readonly errors: readonly PolicyProblem[];
  constructor(errors: readonly PolicyProblem[]) {
    const lines = errors.map((e) => `  ${e.source}${e.line === undefined ? '' : `:${e.line}`}: ${e.message}`);
    super(
      'POLICY.INVALID',
      `policies are invalid (${errors.length} problem${errors.length === 1 ? '' : 's'}):\n${lines.join('\n')}`,
    );
    this.name = 'PolicyError';
    this.errors = errors;
  }
}
