import { OrchestronError } from '@orchestron/errors';

/** An expression that cannot be parsed, compiled or evaluated. Never retried: the same expression fails the same way. */
export class ExpressionError extends OrchestronError<'EXPRESSION.INVALID' | 'EXPRESSION.BUDGET_EXCEEDED'> {
  readonly expression: string;
  /** `code` is for ExpressionBudgetError; everything else is EXPRESSION.INVALID. */
  constructor(expression: string, message: string, code: ExpressionError['code'] = 'EXPRESSION.INVALID') {
    super(code, message);
    this.name = 'ExpressionError';
    this.expression = expression;
  }
}

/**
 * An evaluation that went over one of its limits (operations, a built string's length, a built
 * collection's size). It is an ExpressionError, so every caller that refuses a bad expression
 * refuses this one too; the code lets the decider tell "too expensive" from "wrong".
 */
export class ExpressionBudgetError extends ExpressionError {
  declare readonly code: 'EXPRESSION.BUDGET_EXCEEDED';
  /** Which limit was hit, e.g. `operations`, and its value. */
  readonly limit: string;
  readonly max: number;
  constructor(expression: string, limit: string, max: number, detail: string) {
    super(
      expression,
      `the expression ${JSON.stringify(clip(expression))} exceeded its budget of ${max} ${detail}`,
      'EXPRESSION.BUDGET_EXCEEDED',
    );
    this.name = 'ExpressionBudgetError';
    this.limit = limit;
    this.max = max;
  }
}

function clip(source: string): string {
  return source.length > 120 ? `${source.slice(0, 117)}...` : source;
}
