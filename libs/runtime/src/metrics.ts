import type { Metrics, MetricsSource } from '@orchestron/telemetry';
import { BUDGET_EXCEEDED, DEFAULT_TENANT, finishedAtOf, RUN_STATUSES, usageOf } from '@orchestron/workflow-core';
import type { RunData, RunState, WorkflowEvent } from '@orchestron/workflow-core';
import type { FlowSnapshot } from './flow-control.ts';
import type { RunService } from './run-service.ts';

/** Turns the events an engine appends into step latency and retry metrics. */
export function metricsObserver(
  metrics: Metrics,
): (before: RunState, after: RunData, events: readonly WorkflowEvent[]) => void {
  const models = new Set<string>();
  return (before, after, events) => {
    for (const event of events) {
      switch (event.type) {
        case 'StepCompleted':
        case 'StepFailed': {
          const previous = 'steps' in before ? before.steps[event.data.stepId] : undefined;
          const worker = after.definition.steps[event.data.stepId]?.worker ?? 'none';
          const at = finishedAtOf(after.steps[event.data.stepId]);
          if (previous?.dispatchedAt != null && at != null) {
            metrics.stepDuration.observe(
              { worker, outcome: event.type === 'StepCompleted' ? 'completed' : 'failed' },
              Math.max(0, at - previous.dispatchedAt) / 1000,
            );
          }
          break;
        }
        case 'StepRetryScheduled':
          metrics.stepRetries.inc({ worker: after.definition.steps[event.data.stepId]?.worker ?? 'none' });
          break;
        case 'RunNeedsOperator':
          if (event.data.code === BUDGET_EXCEEDED) metrics.budgetsExceeded.inc({ definition: after.definition.id });
          break;
        default:
          break;
      }
      countReported(metrics, after.definition.id, event, models);
    }
  };
}

/** Model names are the workers' to choose: past this many distinct ones, the rest count as `other`. */
const MAX_MODEL_LABELS = 50;

function countReported(metrics: Metrics, definition: string, event: WorkflowEvent, models: Set<string>): void {
  const usage = usageOf(event)?.usage;
  if (usage === undefined) return;
  const name = usage.model ?? 'unknown';
  if (!models.has(name) && models.size < MAX_MODEL_LABELS) models.add(name);
  const model = models.has(name) ? name : 'other';
  metrics.usageTokens.inc({ definition, model, kind: 'input' }, usage.inputTokens);
  metrics.usageTokens.inc({ definition, model, kind: 'output' }, usage.outputTokens);
  if (usage.cost !== undefined) metrics.usageCost.inc({ definition, currency: usage.cost.currency }, usage.cost.amount);
}

/** Breaker state, attempts in flight, limit and held attempts per worker, as flow control changes them. */
export function flowMetricsObserver(metrics: Metrics): (snapshot: FlowSnapshot) => void {
  return (snapshot) => {
    metrics.setBreakerState(
      snapshot.worker,
      snapshot.state.breaker === 'half_open' ? 'half-open' : snapshot.state.breaker,
    );
    metrics.workerInflight.set({ worker: snapshot.worker }, snapshot.state.inflight);
    // Prometheus has no infinity gauge convention: -1 says "no limit".
    metrics.workerLimit.set(
      { worker: snapshot.worker },
      Number.isFinite(snapshot.config.concurrency) ? snapshot.config.concurrency : -1,
    );
    metrics.workerRate.set(
      { worker: snapshot.worker },
      Number.isFinite(snapshot.config.rate) ? snapshot.config.rate : -1,
    );
    metrics.heldAttempts.set({ worker: snapshot.worker }, snapshot.held);
    for (const [reason, count] of Object.entries(snapshot.heldBy))
      metrics.heldAttemptsByReason.set({ worker: snapshot.worker, reason }, count);
  };
}

/** The metrics, with runs by status counted from the read model on each scrape. */
export function runMetricsSource(runs: Pick<RunService, 'countRuns'>, metrics: Metrics): MetricsSource {
  return {
    contentType: metrics.contentType,
    render: async () => {
      const counts = new Map<string, Map<string, number>>([[DEFAULT_TENANT, new Map()]]);
      for (const [tenant, status, count] of runs.countRuns()) {
        const byStatus = counts.get(tenant) ?? new Map<string, number>();
        byStatus.set(status, count);
        counts.set(tenant, byStatus);
      }
      for (const [tenant, byStatus] of counts)
        for (const status of RUN_STATUSES) metrics.runsByStatus.set({ status, tenant }, byStatus.get(status) ?? 0);
      return metrics.render();
    },
  };
}
