import { createHash } from 'node:crypto';
import type { StepCommandMessage } from '@orchestron/bus';
import { currentTraceId, currentTraceparent, traceIdForRun, traceparentForRun } from '@orchestron/telemetry';
import { DEFAULT_TENANT, heartbeatIntervalMs } from '@orchestron/workflow-core';
import type { RunData, SendData } from '@orchestron/workflow-core';

/** What names an attempt in flow control. */
export function attemptKey(runId: string, phase: string, stepId: string, attempt: number): string {
  return `${runId}/${phase}/${stepId}/${attempt}`;
}

export function commandMessage(state: RunData, d: SendData): StepCommandMessage {
  return {
    type: d.phase === 'execute' ? 'step.execute' : 'step.compensate',
    runId: state.runId,
    stepId: d.stepId,
    attempt: d.attempt,
    worker: d.worker,
    action: d.action,
    input: d.input,
    idempotencyKey: d.idempotencyKey,
    deadline: d.timeoutAt,
    heartbeatIntervalMs: heartbeatIntervalMs(state.definition, d.stepId, d.phase),
    definitionId: state.definition.id,
  };
}

/**
 * A W3C `traceparent` for a dispatch: the trace id comes from the run id, so every message about a run is in
 * one trace, and the span id from the attempt's idempotency key. Workers send it back on their reports.
 */
export function traceparentFor(runId: string, spanKey: string): string {
  return traceparentForRun(runId, spanKey);
}

/** The active span's context when it is in the run's trace (so the receiver's span is its child), else the derived one. */
export function traceparentInRun(runId: string, spanKey: string): string {
  const active = currentTraceparent();
  return active !== undefined && currentTraceId() === traceIdForRun(runId) ? active : traceparentFor(runId, spanKey);
}

/** The same key always names the same run, so a retried start finds the run the first one created. */
export function runIdForKey(definitionId: string, key: string, tenant: string = DEFAULT_TENANT): string {
  // The default tenant keeps the ids its runs had before tenants existed. Another tenant's hashed text starts with
  // "[" where the default's starts with a definition id (a letter), so no choice of key makes the two collide.
  const text = tenant === DEFAULT_TENANT ? `${definitionId}\u0000${key}` : JSON.stringify([tenant, definitionId, key]);
  const hex = createHash('sha256').update(text).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
