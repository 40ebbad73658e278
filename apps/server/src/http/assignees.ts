import { quoteForMessage } from '@orchestron/definitions';
import type { RunCommand } from '@orchestron/runtime';
import { gateAssignees } from '@orchestron/workflow-core';
import type { RunData } from '@orchestron/workflow-core';
import type { Principal } from './auth.ts';
import { RequestError } from './errors.ts';

/*
 * Who may decide an approval gate. A gate whose step declares `assignees` is decided (approved, rejected, or
 * skipped past with an output) only by an admin key or a key matching one of them:
 *
 *   group:<g>, role:<g>, or a bare <g>   a key holding group g (`role:` names a business role, not the key's API role)
 *   user:<name>                          the key whose subject is name
 *   any other <kind>:<x>                 no key: only an admin may decide it
 *
 * Names compare exactly. A gate without assignees, and a gate governance opened on a task step, is any
 * operator's to decide, as before. Once an approval's timeout escalated it, a key matching its `escalateTo` may
 * decide it too.
 */

/** The operator commands that decide a gate. Skip counts: it passes the gate with an output of the operator's. */
export function mayAct(run: RunData, command: RunCommand, caller: Principal): void {
  if (command.type === 'Approve' || command.type === 'Reject' || command.type === 'SkipStep')
    mayDecide(run, command.data.stepId, caller);
}

/** Throws 403 AUTH.FORBIDDEN, naming the step, its assignees and the key's groups, unless `caller` may decide it. */
export function mayDecide(run: RunData, stepId: string, caller: Principal): void {
  // The definition's assignees (what ApprovalRequested records), and its escalateTo once ApprovalEscalated folded in.
  const assignees = gateAssignees(run, stepId);
  if (assignees.length === 0 || caller.role === 'admin' || assignees.some((a) => matchesAssignee(a, caller))) return;
  const groups = caller.groups.length > 0 ? caller.groups.join(', ') : 'none';
  throw new RequestError(
    'AUTH.FORBIDDEN',
    `step ${quoteForMessage(stepId)} of run ${run.runId} is assigned to ${assignees.join(', ')}; key ${caller.keyId} (${caller.role}:${caller.subject}) holds groups ${groups}, so only an admin key or a key matching an assignee may decide it`,
    { field: 'stepId', stepId, assignees: [...assignees], groups: [...caller.groups] },
  );
}

/** Whether a key with this subject and these groups matches one assignee (the rule at the top of this file). */
export function matchesAssignee(assignee: string, caller: Pick<Principal, 'subject' | 'groups'>): boolean {
  const colon = assignee.indexOf(':');
  if (colon < 0) return caller.groups.includes(assignee);
  const name = assignee.slice(colon + 1);
  switch (assignee.slice(0, colon)) {
    case 'group':
    case 'role':
      return caller.groups.includes(name);
    case 'user':
      return caller.subject === name;
    default:
      return false;
  }
}
