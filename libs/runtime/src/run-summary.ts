import type { RecordedEvent } from '@orchestron/event-store';
import { DEFAULT_TENANT } from '@orchestron/workflow-core';
import type { RunStatus, WorkflowEvent } from '@orchestron/workflow-core';

export const RUN_STREAM_PREFIX = 'run-';
export const runStream = (runId: string): string => `${RUN_STREAM_PREFIX}${runId}`;

export interface RunSummary {
  readonly id: string;
  /** Whose run it is: reads and actions by a key of another tenant do not see it. */
  readonly tenant: string;
  readonly definitionId: string;
  readonly definitionVersion: number;
  readonly status: RunStatus;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly attention: { readonly code: string; readonly message: string; readonly stepId: string | null } | null;
  readonly waitingApproval: readonly string[];
  /** Global position of the last event folded in. */
  readonly position: number;
}

/** A run as the index keeps it: its summary, and which phase a resume returns to. */
export type IndexedRun = RunSummary & { readonly phase: 'execute' | 'compensate' };

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** The run a recorded event is about, or undefined for an event of another stream. */
export function runIdOf(recorded: RecordedEvent): string | undefined {
  return recorded.streamId.startsWith(RUN_STREAM_PREFIX)
    ? recorded.streamId.slice(RUN_STREAM_PREFIX.length)
    : undefined;
}

/** The summary a run's first event makes, or undefined when the event does not start a run. */
export function startedRun(runId: string, recorded: RecordedEvent): IndexedRun | undefined {
  const event = { type: recorded.type, data: recorded.data } as WorkflowEvent;
  if (event.type !== 'RunStarted') return undefined;
  const at = recorded.recordedAt;
  return {
    id: runId,
    tenant: event.data.tenant ?? DEFAULT_TENANT,
    definitionId: event.data.definition.id,
    definitionVersion: event.data.definition.version,
    status: 'running',
    phase: 'execute',
    createdAt: at,
    updatedAt: at,
    attention: null,
    waitingApproval: [],
    position: recorded.position,
  };
}

/** The summary after one more event of the run. Never changes `run`: the index replaces entries, it never edits. */
export function nextRun(run: IndexedRun, recorded: RecordedEvent): IndexedRun {
  const event = { type: recorded.type, data: recorded.data } as WorkflowEvent;
  const next: Mutable<IndexedRun> = { ...run, updatedAt: recorded.recordedAt, position: recorded.position };
  switch (event.type) {
    case 'RunPaused':
      next.status = 'paused';
      break;
    case 'RunResumed':
      next.status = run.phase === 'compensate' ? 'compensating' : 'running';
      next.attention = null;
      break;
    case 'RunNeedsOperator':
      next.status = 'needs_operator';
      next.attention = { code: event.data.code, message: event.data.message, stepId: event.data.stepId };
      break;
    case 'CompensationStarted':
      next.status = 'compensating';
      next.phase = 'compensate';
      next.attention = null;
      next.waitingApproval = [];
      break;
    case 'RunCompleted':
      next.status = 'completed';
      break;
    case 'RunFailed':
      next.status = 'failed';
      next.waitingApproval = [];
      break;
    case 'RunCompensated':
      next.status = 'compensated';
      break;
    case 'RunCancelled':
      next.status = 'cancelled';
      next.waitingApproval = [];
      break;
    case 'RunReset':
      next.status = 'running';
      next.phase = 'execute';
      next.attention = null;
      next.waitingApproval = [];
      break;
    case 'ApprovalRequested':
      next.waitingApproval = [...run.waitingApproval, event.data.stepId];
      break;
    case 'StepApproved':
    case 'StepRejected':
    case 'StepFailed':
    case 'StepSkipped':
    case 'StepCompleted':
      next.waitingApproval = run.waitingApproval.filter((id) => id !== event.data.stepId);
      break;
    default:
      break;
  }
  return next;
}

export function summaryOf(run: IndexedRun): RunSummary {
  const { phase: _phase, ...summary } = run;
  return summary;
}
