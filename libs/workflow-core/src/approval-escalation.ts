/**
 * An approval step's second level (`escalateTo`): its first timeout assigns the gate to more people, with a new
 * deadline (`escalateAfter`), rather than ending the wait; `onTimeout` applies only when that deadline passes too.
 */
import { schedule } from './event-builders.ts';
import type { Timer, WorkflowEvent } from './messages.ts';
import { escalatedToOf, stepAt } from './state.ts';
import type { RunData } from './state.ts';

/** What an approval timeout does when it escalates the gate; empty when it does not (none declared, or done once). */
export function escalateApproval(s: RunData, timer: Timer, now: number): WorkflowEvent[] {
  const def = s.definition.steps[timer.stepId];
  const st = stepAt(s, timer.stepId, 'waiting_approval');
  const to = def?.escalateTo ?? [];
  if (st?.approvalCause !== 'approval_step' || st.escalatedTo !== null || to.length === 0) return [];
  const after = def?.escalateAfterMs ?? def?.timeoutMs ?? 0;
  return [
    {
      type: 'ApprovalEscalated',
      data: {
        stepId: timer.stepId,
        to,
        message: `approval "${timer.stepId}" timed out and is escalated to ${to.join(', ')}`,
        at: now,
      },
    },
    schedule({ ...timer, id: `${timer.id}:escalated`, dueAt: now + after }),
  ];
}

/**
 * Who may decide the gate at `stepId` now: an approval step's `assignees`, and once its timeout escalated it, its
 * `escalateTo` as well. Empty (any operator) for a gate without assignees, escalated or not, and for a task step.
 */
export function gateAssignees(s: RunData, stepId: string): readonly string[] {
  const def = Object.hasOwn(s.definition.steps, stepId) ? s.definition.steps[stepId] : undefined;
  if (def?.type !== 'approval' || def.assignees.length === 0) return [];
  const escalated = escalatedToOf(s.steps[stepId]) ?? [];
  return [...new Set([...def.assignees, ...escalated])];
}
