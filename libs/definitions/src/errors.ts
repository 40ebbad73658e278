import type { DefinitionIssue } from './types.ts';

/** A definition that cannot be accepted; `issues` holds every problem found, each with its path. */
export class DefinitionInvalidError extends Error {
  readonly code = 'DEFINITION.INVALID';
  readonly retryable = false;
  readonly issues: readonly DefinitionIssue[];
  constructor(issues: readonly DefinitionIssue[], subject = 'definition') {
    super(`${subject} is invalid (${issues.length} problem${issues.length === 1 ? '' : 's'}):\n${issues.map((i) => `  ${i.path || '/'}: ${i.message}`).join('\n')}`);
    this.name = 'DefinitionInvalidError';
    this.issues = issues;
  }
}
