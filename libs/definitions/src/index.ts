export type {
  Backoff, CompiledCompensation, CompiledDefinition, CompiledStep, DefinitionIssue, Jitter, JoinPolicy, OnFailure, OnTimeout, RetryPolicy,
} from './types.ts';
export type { ExpressionContext } from './expressions.ts';
export { compileDefinition, runInputIssues, DEFAULT_GOVERNANCE_TIMEOUT_MS, DEFAULT_RETRY, DEFAULT_TIMEOUT_MS } from './compile.ts';
export { definitionIssues } from './validate.ts';
export { parseDefinitionText } from './parse.ts';
export { DefinitionInvalidError } from './errors.ts';
export { evaluateExpression, renderTemplate, referencedSteps, unwrapExpression, ExpressionBudgetError, ExpressionError } from './expressions.ts';
export { EXPRESSION_LIMITS } from './expression-budget.ts';
export { parseDuration, formatDuration } from './duration.ts';
export { definitionSchema } from './schema.ts';
