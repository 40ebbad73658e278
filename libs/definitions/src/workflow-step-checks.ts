import type { RawStep } from './step-graph.ts';
import type { DefinitionIssue } from './types.ts';

/**
 * Fields a workflow step has no use for: the child run has its own workers, retries, timeouts, gates and
 * compensations, and the parent's compensation of the step is the child's (docs/semantics.md#child-workflows).
 */
const NOT_FOR_WORKFLOW_STEPS = [
  'worker',
  'action',
  'sideEffect',
  'compensate',
  'retry',
  'timeout',
  'heartbeatTimeout',
  'governanceTimeout',
  'assignees',
  'onTimeout',
  'escalateTo',
  'escalateAfter',
] as const;

/** A workflow step names the definition it starts (`workflow`); `workflow` and `parentClosePolicy` mean nothing elsewhere. */
export function checkWorkflowFields(
  step: RawStep & Record<string, unknown>,
  at: string,
  issues: DefinitionIssue[],
): void {
  if (step.type !== 'workflow') {
    for (const field of ['workflow', 'parentClosePolicy'] as const)
      if (step[field] !== undefined)
        issues.push({ path: `${at}/${field}`, message: `only a workflow step (type: workflow) takes ${field}` });
    return;
  }
  if (step.workflow === undefined)
    issues.push({
      path: `${at}/workflow`,
      message: 'a workflow step needs workflow: the definition it starts, e.g. { id: provision-user, version: 2 }',
    });
  for (const field of NOT_FOR_WORKFLOW_STEPS)
    if (step[field] !== undefined)
      issues.push({
        path: `${at}/${field}`,
        message: `a workflow step starts a child run and takes no ${field}: the child's definition says it`,
      });
}
