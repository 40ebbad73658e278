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

export interface RunFilter {
  /** Only this tenant's runs; absent: every tenant's (an admin's view). */
  readonly tenant?: string;
  readonly status?: RunStatus;
  readonly definitionId?: string;
  readonly limit?: number;
}

/** A run as the index keeps it: its summary, and which phase a resume returns to. */
export type IndexedRun = RunSummary & { readonly phase: 'execute' | 'compensate' };

/** The whole index at one position (what a checkpoint holds). */
export interface RunIndexCapture {
  readonly position: number;
  /** In the order the index met them. */
  readonly runs: readonly IndexedRun[];
}

/**
 * The run-list read model, a projection of the global log. Rebuilding it from position 0 gives the same
 * result as keeping it live (guarantee 9), and as restoring a checkpoint and catching up from it; tests check both.
 */
export class RunIndex {
  private readonly runs = new Map<string, IndexedRun>();
  private lastPosition = 0;

  get position(): number {
    return this.lastPosition;
  }

  /**
   * The index as it stands, in O(runs) references and no copying of entries: `apply` never changes an entry in
   * place, it replaces it, so what a capture holds stays as it was while the index moves on.
   */
  capture(): RunIndexCapture {
    return { position: this.lastPosition, runs: [...this.runs.values()] };
  }

  /** Replaces everything the index holds with a capture (a checkpoint restored at start). */
  restore(capture: RunIndexCapture): void {
    this.runs.clear();
    for (const run of capture.runs) this.runs.set(run.id, run);
    this.lastPosition = capture.position;
  }

  apply(recorded: RecordedEvent): void {
    if (recorded.position <= this.lastPosition) return;
    this.lastPosition = recorded.position;
    if (!recorded.streamId.startsWith(RUN_STREAM_PREFIX)) return;
    const runId = recorded.streamId.slice(RUN_STREAM_PREFIX.length);
    const event = { type: recorded.type, data: recorded.data } as WorkflowEvent;
    const at = recorded.recordedAt;
    if (event.type === 'RunStarted') {
      this.runs.set(runId, {
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
      });
      return;
    }
    const run = this.runs.get(runId);
    if (!run) return;
    const next: Mutable<IndexedRun> = { ...run, updatedAt: at, position: recorded.position };
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
    this.runs.set(runId, next);
  }

  get(runId: string): RunSummary | undefined {
    const run = this.runs.get(runId);
    return run ? strip(run) : undefined;
  }

  list(filter: RunFilter = {}): RunSummary[] {
    const out: RunSummary[] = [];
    for (const run of this.runs.values()) {
      if (filter.tenant !== undefined && run.tenant !== filter.tenant) continue;
      if (filter.status && run.status !== filter.status) continue;
      if (filter.definitionId && run.definitionId !== filter.definitionId) continue;
      out.push(strip(run));
    }
    out.sort((a, b) => b.position - a.position);
    return filter.limit ? out.slice(0, filter.limit) : out;
  }

  active(): RunSummary[] {
    return this.list().filter((r) => !['completed', 'failed', 'compensated', 'cancelled'].includes(r.status));
  }

  snapshot(): RunSummary[] {
    return [...this.runs.values()].map(strip).sort((a, b) => a.id.localeCompare(b.id));
  }
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function strip(run: IndexedRun): RunSummary {
  const { phase: _phase, ...summary } = run;
  return summary;
}
