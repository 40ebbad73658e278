import type { RawStep } from './step-graph.ts';
import type { DefinitionIssue } from './types.ts';

/** Fields that mean something only to a step that runs on a worker, or to a human gate. */
const NOT_FOR_EVENT_STEPS = [
  'worker',
  'action',
  'input',
  'sideEffect',
  'compensate',
  'retry',
  'heartbeatTimeout',
  'governanceTimeout',
  'assignees',
  'escalateTo',
  'escalateAfter',
] as const;

/**
 * An event step waits for a named event whose key is `match`: both are required there, and mean nothing anywhere
 * else. It runs nothing, so it takes none of a task's or a gate's fields; `onTimeout: skip` is for it alone.
 */
export function checkEventFields(step: RawStep & Record<string, unknown>, at: string, issues: DefinitionIssue[]): void {
  if (step.type !== 'event') {
    for (const field of ['event', 'match'] as const)
      if (step[field] !== undefined)
        issues.push({ path: `${at}/${field}`, message: `only an event step (type: event) takes ${field}` });
    if (step.onTimeout === 'skip')
      issues.push({ path: `${at}/onTimeout`, message: 'onTimeout: skip is only for an event step (type: event)' });
    return;
  }
  if (step.event === undefined)
    issues.push({ path: `${at}/event`, message: 'an event step needs event: the name of the event it waits for' });
  if (step.match === undefined)
    issues.push({
      path: `${at}/match`,
      message: 'an event step needs match: the key an event must carry, e.g. ${{ input.orderId }}',
    });
  for (const field of NOT_FOR_EVENT_STEPS)
    if (step[field] !== undefined)
      issues.push({ path: `${at}/${field}`, message: `an event step waits for an event and takes no ${field}` });
}
