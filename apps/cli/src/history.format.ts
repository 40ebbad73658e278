import { brief, isoTime } from './format.ts';
import type { EventView } from './api.types.ts';
import { budgetText, usageText } from './usage.format.ts';
import type { WorkflowEventType } from '@orchestron/workflow-core';

type Data = Readonly<Record<string, unknown>>;

/** Listing every event type here makes the compiler flag one the history cannot summarise yet. */
const KNOWN: Readonly<Record<WorkflowEventType, true>> = {
  RunStarted: true,
  GovernanceCheckRequested: true,
  GovernanceDecided: true,
  ApprovalRequested: true,
  ApprovalEscalated: true,
  EventWaitStarted: true,
  ExternalEventReceived: true,
  EventWaitTimedOut: true,
  ChildRunRequested: true,
  ChildRunEnded: true,
  ChildRunClosed: true,
  ChildCompensationRequested: true,
  StepApproved: true,
  StepRejected: true,
  StepDispatched: true,
  StepHeld: true,
  StepReleased: true,
  StepStarted: true,
  StepHeartbeat: true,
  StepAttemptFailed: true,
  StepRetryScheduled: true,
  StepCompleted: true,
  StepFailed: true,
  StepSkipped: true,
  CompensationCompleted: true,
  CompensationFailed: true,
  CompensationSkipped: true,
  TimerScheduled: true,
  TimerFired: true,
  OperatorRetried: true,
  RunPaused: true,
  RunResumed: true,
  RunNeedsOperator: true,
  CompensationStarted: true,
  RunCompleted: true,
  RunFailed: true,
  RunCompensated: true,
  RunCancelled: true,
  RunReset: true,
  BudgetRaised: true,
};

/** One line per event: revision, time, type, and what matters about it. */
export function historyLines(events: readonly EventView[]): string[] {
  const revWidth = Math.max(1, ...events.map((e) => String(e.revision).length));
  const typeWidth = Math.max(0, ...events.map((e) => e.type.length));
  return events.map((e) =>
    `${String(e.revision).padStart(revWidth)}  ${isoTime(e.recordedAt)}  ${e.type.padEnd(typeWidth)}  ${eventSummary(e)}`.trimEnd(),
  );
}

export function eventSummary(event: Pick<EventView, 'type' | 'data'>): string {
  const d = (typeof event.data === 'object' && event.data !== null ? event.data : {}) as Data;
  if (!(event.type in KNOWN)) return brief(event.data);
  const type = event.type as WorkflowEventType;
  const step = str(d['stepId']);
  switch (type) {
    case 'RunStarted': {
      const def = (d['definition'] ?? {}) as Data;
      const fork = d['forkedFrom'] as Data | undefined;
      const forked = fork ? ` forked-from=${str(fork['runId'])}@${str(fork['revision'])}` : '';
      return `${str(def['id'])} v${str(def['version'])} by ${str(d['startedBy'])}${d['idempotencyKey'] ? ` key=${str(d['idempotencyKey'])}` : ''}${forked} input=${brief(d['input'], 60)}`;
    }
    case 'GovernanceCheckRequested': {
      const deadline = typeof d['timeoutAt'] === 'number' ? `, deadline at ${isoTime(d['timeoutAt'])}` : '';
      return `${step} worker=${str(d['worker'])}${d['action'] ? ` action=${str(d['action'])}` : ''}${deadline}`;
    }
    case 'GovernanceDecided': {
      const policy = d['policyId'] === null || d['policyId'] === undefined ? '(none)' : str(d['policyId']);
      return `${step} outcome=${str(d['outcome'])} policy=${policy} reason=${quote(d['reason'])}${standingOf(d)}`;
    }
    case 'ApprovalRequested':
      return `${step} cause=${str(d['cause'])} assignees=${brief(d['assignees'])} ${quote(d['message'])}`;
    case 'ApprovalEscalated':
      return `${step} to=${brief(d['to'])}`;
    case 'EventWaitStarted':
      return `${step} event=${str(d['event'])} key=${quote(d['key'])}${d['timeoutAt'] ? ` until ${isoTime(d['timeoutAt'])}` : ''}`;
    case 'ExternalEventReceived':
      return `${step} event=${str(d['event'])} key=${quote(d['key'])} id=${quote(d['eventId'])} payload=${brief(d['payload'], 60)}`;
    case 'EventWaitTimedOut':
      return `${step} event=${str(d['event'])} key=${quote(d['key'])}`;
    case 'StepApproved':
    case 'StepRejected':
    case 'CompensationSkipped':
      return `${step} ${by(d)}`;
    case 'StepHeld':
      return `${step} attempt ${str(d['attempt'])} ${str(d['phase'])} held: ${str(d['reason'])} (${str(d['worker'])})${lockNames(d)}`;
    case 'StepReleased':
      return `${step} attempt ${str(d['attempt'])} ${str(d['phase'])} released → ${str(d['worker'])}${d['send'] === false ? ' (already at the worker)' : ''}${dueText(d)}`;
    case 'StepDispatched':
      return `${step} attempt ${str(d['attempt'])} ${str(d['phase'])} → ${str(d['worker'])}${d['action'] ? `/${str(d['action'])}` : ''}${dueText(d)}${rulingOf(d)}`;
    case 'StepStarted':
    case 'StepHeartbeat':
      return `${step} attempt ${str(d['attempt'])} ${str(d['phase'])}`;
    case 'StepAttemptFailed':
      return `${step} attempt ${str(d['attempt'])} ${str(d['phase'])} ${failure(d['error'])}${used(d)}`;
    case 'StepRetryScheduled':
      return `${step} ${str(d['phase'])} attempt ${str(d['nextAttempt'])} at ${isoTime(d['retryAt'])}`;
    case 'StepCompleted':
    case 'CompensationCompleted':
      return `${step} attempt ${str(d['attempt'])} output=${brief(d['output'], 60)}${used(d)}`;
    case 'StepFailed':
    case 'CompensationFailed':
      return `${step} attempt ${str(d['attempt'])} ${failure(d['error'])}`;
    case 'StepSkipped':
      return `${step} kind=${str(d['kind'])}${d['by'] ? ` ${by(d)}` : ''}`;
    case 'TimerScheduled': {
      const timer = (d['timer'] ?? {}) as Data;
      return `${str(timer['kind'])} ${str(timer['stepId'])} attempt ${str(timer['attempt'])} due ${isoTime(timer['dueAt'])}`;
    }
    case 'TimerFired':
      return str(d['timerId']);
    case 'OperatorRetried':
      return `${step} ${str(d['phase'])} ${by(d)}${d['input'] !== undefined && d['input'] !== null ? ` input=${brief(d['input'], 60)}` : ''}${'replacedInput' in d ? ` replacing ${brief(d['replacedInput'], 60)}` : ''}`;
    case 'RunPaused':
    case 'RunResumed':
    case 'RunCancelled':
      return by(d);
    case 'RunNeedsOperator':
      return `${str(d['code'])}: ${str(d['message'])}${d['stepId'] ? ` (step ${str(d['stepId'])})` : ''}`;
    case 'CompensationStarted':
      return `cause=${str(d['cause'])}${d['by'] ? ` by=${str(d['by'])}` : ''}`;
    case 'ChildRunRequested':
      return `${step} child=${str(d['childRunId'])} workflow=${str(d['definitionId'])}${d['version'] ? ` v${str(d['version'])}` : ''} attempt ${str(d['attempt'])}`;
    case 'ChildRunEnded':
      return `${step} child=${str(d['childRunId'])} ${str(d['status'])} (${str(d['phase'])})`;
    case 'ChildRunClosed':
      return `${step} child=${str(d['childRunId'])} policy=${str(d['policy'])}`;
    case 'ChildCompensationRequested':
      return `${step} child=${str(d['childRunId'])} attempt ${str(d['attempt'])}`;
    case 'RunCompleted':
      return '';
    case 'RunFailed':
      return `${d['stepId'] ? `${str(d['stepId'])} ` : ''}${failure(d['error'])}`;
    case 'RunCompensated':
      return `compensated=${brief(d['compensated'])}`;
    case 'RunReset':
      return resetLine(d);
    case 'BudgetRaised':
      return `budget ${budgetText(d['budget'])} (was ${budgetText(d['previous'])}) ${by(d)}`;
    default: {
      const _exhaustive: never = type;
      return brief(event.data);
    }
  }
}

const used = (d: Data): string => (d['usage'] === undefined ? '' : ` usage: ${usageText(d['usage'])}`);

/** from, what runs again, who and why, what it replaced, and what stays undone. */
function resetLine(d: Data): string {
  const replaced = (d['replaced'] ?? {}) as Data;
  const was = `was ${str(replaced['status'])}${replaced['failure'] ? ` (${failure((replaced['failure'] as Data)['error'])})` : ''}`;
  const input =
    d['input'] !== undefined ? ` input=${brief(d['input'], 60)} replacing ${brief(replaced['input'], 60)}` : '';
  const undone =
    Array.isArray(d['stillUndone']) && d['stillUndone'].length > 0 ? ` still-undone=${brief(d['stillUndone'])}` : '';
  return `from ${str(d['fromStepId'])} runs=${brief(d['steps'])} ${by(d)} ${was}${input}${undone}`;
}

function str(value: unknown): string {
  if (value === undefined || value === null) return '-';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function quote(value: unknown): string {
  return JSON.stringify(typeof value === 'string' ? value : str(value));
}

function by(d: Data): string {
  return `by=${str(d['by'])}${d['reason'] ? ` reason=${quote(d['reason'])}` : ''}`;
}

function failure(error: unknown): string {
  const e = (error ?? {}) as Data;
  return `${str(e['code'])}: ${str(e['message'])}${e['retryable'] === true ? ' (retryable)' : ''}`;
}

/** When the attempt times out (its timer is armed by this event: ADR 38). */
function dueText(d: Record<string, unknown>): string {
  return typeof d['timeoutAt'] === 'number' ? `, times out at ${isoTime(d['timeoutAt'])}` : '';
}

/** The locks a held attempt waits for. */
function lockNames(d: Record<string, unknown>): string {
  return Array.isArray(d['locks']) ? ` for ${d['locks'].map((n) => JSON.stringify(n)).join(', ')}` : '';
}

/** A standing allow on the dispatch it allowed (ADR 43): the policy, whose ruling it is, and why. */
function rulingOf(d: Record<string, unknown>): string {
  const ruling = d['ruling'];
  if (typeof ruling !== 'object' || ruling === null) return '';
  const { policyId, decidedBy, reason } = ruling as Record<string, unknown>;
  const policy = policyId === null || policyId === undefined ? '(none)' : str(policyId);
  return `, allowed by standing ruling of ${str(decidedBy)}: policy=${policy} reason=${quote(reason)} (no request)`;
}

/** A standing ruling recorded as the whole check (ADR 41): whose it is, and the attempt it allowed. */
function standingOf(d: Record<string, unknown>): string {
  const standing = d['standing'];
  if (typeof standing !== 'object' || standing === null) return '';
  const { decidedBy, attempt } = standing as Record<string, unknown>;
  return `, standing ruling by ${str(decidedBy)} for attempt ${str(attempt)} (no request)`;
}
