import { OrchestronError } from '@orchestron/errors';
import type { DefinitionIssue } from './types.ts';

/** A definition that cannot be accepted; `issues` (also `details.issues`, for the HTTP edge) holds every problem found, each with its path. */
export class DefinitionInvalidError extends OrchestronError<'DEFINITION.INVALID'> {
  declare readonly details: Readonly<{ issues: readonly DefinitionIssue[] }>;
  readonly issues: readonly DefinitionIssue[];
  constructor(issues: readonly DefinitionIssue[], subject = 'definition') {
    super(
      'DEFINITION.INVALID',
      `${subject} is invalid (${issues.length} problem${issues.length === 1 ? '' : 's'}):\n${issues.map((i) => `  ${i.path || '/'}: ${i.message}`).join('\n')}`,
      { details: { issues } },
    );
    this.name = 'DefinitionInvalidError';
    this.issues = issues;
  }
}
