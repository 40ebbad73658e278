export type {
  Backoff,
  Budget,
  ChildWorkflow,
  CompiledCompensation,
  CompiledDefinition,
  CompiledStep,
  DefinitionIssue,
  Jitter,
  JoinPolicy,
  LockDeclaration,
  LockMode,
  OnFailure,
  OnTimeout,
  ParentClosePolicy,
  RetryPolicy,
} from './types.ts';
export type { ExpressionContext } from './expressions.ts';
export {
  compileDefinition,
  runInputIssues,
  stepInputIssues,
  DEFAULT_GOVERNANCE_TIMEOUT_MS,
  DEFAULT_RETRY,
  DEFAULT_TIMEOUT_MS,
} from './compile.ts';
export { definitionIssues } from './validate.ts';
export { parseDefinitionText } from './parse.ts';
export { DefinitionInvalidError } from './errors.ts';
export {
  evaluateExpression,
  renderTemplate,
  referencedSteps,
  unwrapExpression,
  ExpressionBudgetError,
  ExpressionError,
} from './expressions.ts';
export { EXPRESSION_LIMITS } from './expression-budget.ts';
export { parseDuration, formatDuration } from './duration.ts';
export { budgetSchema, definitionSchema, MAX_LOCK_NAME, MAX_STEP_LOCKS } from './schema.ts';
export { IDENTIFIER_PATTERN } from './schema.ts';
export { IDENTIFIER_RULE, identifierProblem, isIdentifier, TENANT_PATTERN, TENANT_RULE } from './identifier.ts';
export { QUOTE_MAX_CHARS, quoteForMessage } from './quote.ts';
export {
  checkJsonLimits,
  JsonLimitError,
  MAX_JSON_DEPTH,
  MAX_MESSAGE_DEPTH,
  MAX_OBJECT_KEYS,
  nestsDeeperThan,
  parseLimitedJson,
} from './json-limits.ts';
export type { JsonLimit, JsonLimits } from './json-limits.ts';
export { cronProblem, firesBetween, MAX_CRON_LENGTH, MAX_TIMEZONE_LENGTH, nextFireAfter } from './schedule-cron.ts';
export type { CronProblem, CronRule } from './schedule-cron.ts';
export {
  CATCH_UP_POLICIES,
  DECLARED_SCHEDULE_LIMIT,
  declaredScheduleId,
  DEFAULT_MAX_CATCH_UP,
  MAX_CATCH_UP,
  OVERLAP_POLICIES,
} from './schedule-schema.ts';
export type { CatchUpPolicy, DeclaredSchedule, OverlapPolicy } from './types.ts';
export { precompiledValidator, SCHEMA_OPTIONS, schemaKey, schemaValidator } from './schema-validators.ts';
