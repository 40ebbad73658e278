import {
  childRunOf,
  errorOf,
  escalatedToOf,
  finishedAtOf,
  gateAssignees,
  heldOf,
  outputOf,
} from '@orchestron/workflow-core';
import type { Budget } from '@orchestron/definitions';
import type {
  CompensationStatus,
  Hold,
  RunData,
  RunStatus,
  StepState,
  StepStatus,
  UsageTotals,
} from '@orchestron/workflow-core';

export interface StepView {
  readonly id: string;
  readonly type: 'task' | 'approval' | 'event' | 'workflow';
  readonly worker: string | null;
  readonly needs: readonly string[];
  readonly status: StepStatus;
  readonly attempt: number;
  readonly input: unknown;
  readonly output: unknown;
  readonly error: { code: string; message: string; retryable: boolean } | null;
  readonly governance: { outcome: string; policyId: string | null; reason: string } | null;
  readonly skipKind: string | null;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly compensation: {
    status: CompensationStatus;
    attempt: number;
    error: { code: string; message: string } | null;
  } | null;
  /** Set while flow control holds the attempt (the worker's breaker is open, or it is at its concurrency limit). */
  /** `locks`: on a lock hold, the locks the attempt takes (the lock table, GET /v1/locks, says who holds them). */
  readonly held: { reason: string; worker: string; since: string; locks?: readonly string[] } | null;
  /** Approval steps only: who may decide the gate now (empty: any operator), its escalateTo included once escalated. */
  readonly assignees?: readonly string[];
  /** Approval steps only: whom the waiting gate's timeout escalated it to; null before, and once it is decided. */
  readonly escalatedTo?: readonly string[] | null;
  /** What the step's attempts reported using (tokens, cost per currency); absent when they reported none. */
  readonly usage?: UsageTotals;
  /** Event steps only: the event the step waits (or waited) for, and the key its match evaluated to; null before. */
  readonly waitsFor?: { event: string; key: string; since: string; timeoutAt: string | null } | null;
  /** Workflow steps only: the child run it started (its latest, after an operator's retry); null before. */
  readonly childRunId?: string | null;
  /** Workflow steps only: the definition it starts (a version when pinned; else the child run records which). */
  readonly workflow?: { id: string; version: number | null };
}

export interface RunView {
  readonly id: string;
  readonly definition: { id: string; version: number; name: string | null };
  readonly status: RunStatus;
  readonly input: unknown;
  readonly startedBy: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly attention: { code: string; message: string; stepId: string | null } | null;
  readonly failure: { stepId: string | null; error: { code: string; message: string } } | null;
  readonly steps: readonly StepView[];
  /** The run this one was forked from, at which revision and why; null for a run started afresh. */
  readonly forkedFrom: { runId: string; revision: number; reason: string | null } | null;
  /** A child run's parent: the run and its workflow step that started it, and how deep it is; null for a top-level run. */
  readonly parent: { runId: string; stepId: string; depth: number } | null;
  /** What the run's attempts reported using in all; present when any did, or when the run has a budget. */
  readonly usage?: UsageTotals;
  /** What the run may spend (the start's, else the definition's, as last raised); absent for none. */
  readonly budget?: Budget;
  readonly version: number;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** The public shape of a run, for the HTTP API and the CLI. */
export function toRunView(run: RunData): RunView {
  return {
    id: run.runId,
    definition: { id: run.definition.id, version: run.definition.version, name: run.definition.name },
    status: run.status,
    input: run.input,
    startedBy: run.startedBy,
    createdAt: new Date(run.startedAt).toISOString(),
    updatedAt: new Date(run.updatedAt).toISOString(),
    attention: run.attention,
    failure: run.failure ?? failureOf(run),
    forkedFrom: run.forkedFrom,
    parent: parentView(run),
    ...usageView(run),
    version: run.version,
    steps: run.definition.order.map((id) => {
      const st = run.steps[id];
      const def = run.definition.steps[id];
      const comp = run.compensations[id];
      return {
        id,
        type: def?.type ?? 'task',
        worker: def?.worker ?? null,
        needs: def?.needs ?? [],
        status: st?.status ?? 'pending',
        attempt: st?.attempt ?? 0,
        input: st?.input ?? null,
        output: outputOf(st) ?? null,
        error: errorOf(st),
        governance: st?.governance ?? null,
        skipKind: st?.status === 'skipped' ? st.skipKind : null,
        startedAt: iso(st?.dispatchedAt ?? null),
        finishedAt: iso(finishedAtOf(st)),
        compensation: comp ? { status: comp.status, attempt: comp.attempt, error: comp.error } : null,
        held: heldView(heldOf(st) ?? comp?.held ?? null),
        ...(def?.type === 'approval' ? { assignees: gateAssignees(run, id), escalatedTo: escalatedToOf(st) } : {}),
        ...(run.stepUsage[id] !== undefined ? { usage: run.stepUsage[id] } : {}),
        ...(def?.type === 'event' ? { waitsFor: waitView(st) } : {}),
        ...(def?.type === 'workflow' ? childView(run, id) : {}),
      };
    }),
  };
}

/** The run's usage and budget, when it has either (absent on runs that use no model, as before budgets existed). */
function usageView(run: RunData): Pick<RunView, 'usage' | 'budget'> {
  const used = Object.keys(run.stepUsage).length > 0;
  return {
    ...(used || run.budget !== null ? { usage: run.usage } : {}),
    ...(run.budget !== null ? { budget: run.budget } : {}),
  };
}

function parentView(run: RunData): RunView['parent'] {
  const parent = run.parent ?? null;
  return parent === null ? null : { runId: parent.runId, stepId: parent.stepId, depth: parent.depth };
}

function childView(run: RunData, id: string): Pick<StepView, 'childRunId' | 'workflow'> {
  const child = run.definition.steps[id]?.child;
  return {
    childRunId: childRunOf(run, id),
    workflow: { id: child?.definitionId ?? '', version: child?.version ?? null },
  };
}

function waitView(st: StepState | undefined): StepView['waitsFor'] {
  if (st?.status !== 'waiting_event') return null;
  return { event: st.event, key: st.key, since: new Date(st.since).toISOString(), timeoutAt: iso(st.timeoutAt) };
}

function heldView(held: Hold | null): StepView['held'] {
  if (held === null) return null;
  const view = { reason: held.reason, worker: held.worker, since: new Date(held.since).toISOString() };
  return held.locks !== undefined ? { ...view, locks: held.locks } : view;
}

function failureOf(run: RunData): RunView['failure'] {
  if (run.status !== 'compensated' && run.status !== 'compensating' && run.status !== 'needs_operator') return null;
  const id = run.definition.order.find((s) => run.steps[s]?.status === 'failed');
  const error = id ? errorOf(run.steps[id]) : null;
  return id && error ? { stepId: id, error: { code: error.code, message: error.message } } : null;
}
