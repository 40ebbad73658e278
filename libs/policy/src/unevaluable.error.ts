import { OrchestronError } from '@orchestron/errors';

/** The code a governance decision carries when Cedar could not evaluate the request at all. */
export const UNEVALUABLE_CODE = 'GOVERNANCE.UNEVALUABLE';

/**
 * A request Cedar cannot evaluate, whatever the policies say: a lone surrogate (Cedar's JSON parser refuses it),
 * a value nested deeper than it accepts. Not retryable: asking again with the same request fails the same way,
 * so callers record a fail-closed decision with UNEVALUABLE_CODE instead of asking again.
 */
export class UnevaluableRequestError extends OrchestronError<typeof UNEVALUABLE_CODE> {
  /** Where in the request the problem is (`context.input.items[2].name`). */
  readonly path: string;
  constructor(path: string, problem: string) {
    super(UNEVALUABLE_CODE, `${path}: ${problem}`);
    this.name = 'UnevaluableRequestError';
    this.path = path;
  }
}
