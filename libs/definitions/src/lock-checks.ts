import { quoteForMessage } from './quote.ts';
import type { RawStep } from './step-graph.ts';
import type { DefinitionIssue } from './types.ts';

/**
 * Locks are for task steps: they are taken before an attempt is sent to a worker. An approval, an event or a
 * workflow step sends nothing (docs/semantics.md#resource-locks). The same name twice in one step is a mistake.
 */
export function checkLockFields(step: RawStep & Record<string, unknown>, at: string, issues: DefinitionIssue[]): void {
  if (step.locks === undefined) return;
  const type = typeof step.type === 'string' ? step.type : 'task';
  if (type !== 'task') {
    issues.push({
      path: `${at}/locks`,
      message: `only a task step takes locks: a${type === 'approval' || type === 'event' ? 'n' : ''} ${type} step sends nothing to a worker`,
    });
    return;
  }
  if (!Array.isArray(step.locks)) return;
  const seen = new Set<string>();
  step.locks.forEach((lock: unknown, i) => {
    const name = lock !== null && typeof lock === 'object' ? (lock as { name?: unknown }).name : undefined;
    if (typeof name !== 'string') return;
    if (seen.has(name))
      issues.push({
        path: `${at}/locks/${i}/name`,
        message: `lock ${quoteForMessage(name)} is taken twice by this step`,
      });
    seen.add(name);
  });
}
