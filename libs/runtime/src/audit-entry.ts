import type { AuditEntry, RecordedEvent } from '@orchestron/event-store';
import { DEFAULT_TENANT } from '@orchestron/workflow-core';
import type { WorkflowEvent } from '@orchestron/workflow-core';

type RunStartedData = Extract<WorkflowEvent, { type: 'RunStarted' }>['data'];

/** What an audit entry takes from the run's RunStarted rather than from the event itself. */
export interface AuditRunFacts {
  readonly tenant: string;
  readonly definitionId: string;
}

const MAX_LABEL = 200;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** The value when the index can hold it as a label (1 to 200 well-formed characters), else null. */
function label(value: unknown): string | null {
  return typeof value === 'string' &&
    value.length > 0 &&
    value.length <= MAX_LABEL &&
    !value.includes('\u0000') &&
    !LONE_SURROGATE.test(value)
    ? value
    : null;
}

export function runFactsOf(started: RecordedEvent): AuditRunFacts {
  const data = started.data as RunStartedData;
  return { tenant: data.tenant ?? DEFAULT_TENANT, definitionId: data.definition.id };
}

/**
 * Who acted: an operator action's `by`, a start's `startedBy`, else the actor of the command the event came from
 * (every event a command appends carries it in its metadata, so the steps an approval dispatches are the
 * approver's doing too).
 */
export function auditActorOf(event: RecordedEvent): string | null {
  const data = (event.data ?? {}) as { by?: unknown; startedBy?: unknown };
  return label(data.by) ?? label(data.startedBy) ?? label(event.metadata.actor);
}

function stepOf(event: RecordedEvent): string | null {
  const data = (event.data ?? {}) as { stepId?: unknown; fromStepId?: unknown; timer?: { stepId?: unknown } };
  return label(data.stepId) ?? label(data.fromStepId) ?? label(data.timer?.stepId);
}

/** The policy that decided: a GovernanceDecided's, or a standing allow's on the dispatch it allowed (ADR 43). */
function policyOf(event: RecordedEvent): string | null {
  if (event.type === 'GovernanceDecided') return label((event.data as { policyId?: unknown }).policyId);
  if (event.type === 'StepDispatched')
    return label((event.data as { ruling?: { policyId?: unknown } }).ruling?.policyId);
  return null;
}

/** The audit entry of an event of run `runId`; undefined when a field the index needs does not fit a label. */
export function auditEntryOf(event: RecordedEvent, runId: string, facts: AuditRunFacts): AuditEntry | undefined {
  const required = [label(runId), label(facts.tenant), label(facts.definitionId), label(event.type)];
  if (required.includes(null)) return undefined;
  return {
    position: event.position,
    runId,
    tenant: facts.tenant,
    definitionId: facts.definitionId,
    type: event.type,
    actor: auditActorOf(event),
    stepId: stepOf(event),
    policyId: policyOf(event),
    recordedAt: event.recordedAt,
  };
}
