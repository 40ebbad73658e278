import type { RunData } from '@orchestron/workflow-core';
import type { GovernanceRequest } from './ports.ts';

/** What governance is asked about a step of a run: the step's worker and action, its input, the run's input and who started it. */
export function governanceRequestOf(state: RunData, stepId: string, input: unknown, now: number): GovernanceRequest {
  const def = state.definition.steps[stepId];
  return {
    runId: state.runId,
    definitionId: state.definition.id,
    definitionVersion: state.definition.version,
    stepId,
    worker: def?.worker ?? '',
    ...(def?.action ? { action: def.action } : {}),
    input,
    runInput: state.input,
    actor: state.startedBy,
    now,
  };
}
