import { Topics, parseGovernanceDecisionMessage, parseOperatorCommandMessage, parseStepEventMessage, parseWorkflowStartMessage } from '@orchestron/bus';
import type { DeliveredMessage, GovernanceDecisionMessage, OperatorCommandMessage } from '@orchestron/bus';
import { withSpan } from '@orchestron/telemetry';
import { DomainError, evolve, initialState, isStarted } from '@orchestron/workflow-core';
import type { RunData, WorkflowEvent } from '@orchestron/workflow-core';
import type { RecordedEvent } from '@orchestron/event-store';
import type { CompiledDefinition } from '@orchestron/definitions';
import { inputDigest, operatorCommand, reportCommand } from './bus-commands.ts';
import { runIdForKey } from './dispatch-messages.ts';
import type { RunCommand, StartRunRequest } from './engine.ts';
import type { Logger } from './ports.ts';

/** What a message about a run turns into: the engine's own operations. */
export interface MessageTarget {
  execute(runId: string, command: RunCommand, actor?: string, metadata?: Readonly<Record<string, string>>): Promise<RunData>;
  startRun(request: StartRunRequest): Promise<unknown>;
  history(runId: string): Promise<RecordedEvent[]>;
  resolveDefinition(id: string, version?: number): Promise<CompiledDefinition>;
  readonly logger: Logger;
}

/**
 * A message from one of the orchestrator's topics, applied to its run inside the run's trace. A malformed
 * message throws (the bus dead-letters it with the reason); one that no longer applies is logged and dropped.
 */
export async function handleRunMessage(target: MessageTarget, message: DeliveredMessage): Promise<void> {
  const traced = <T>(runId: string, work: () => Promise<T>): Promise<T> =>
    withSpan(`orchestrator ${message.topic}`, { headers: message.headers ?? {}, runId, kind: 'consumer', attributes: { 'messaging.destination.name': message.topic, 'messaging.kafka.partition': message.partition } }, work);
  switch (message.topic) {
    case Topics.stepEvents: {
      const report = parseStepEventMessage(message.value);
      await traced(report.runId, () => target.execute(report.runId, reportCommand(report)));
      return;
    }
    case Topics.workflowStarts: {
      const start = parseWorkflowStartMessage(message.value);
      await traced(runIdForKey(start.definitionId, start.idempotencyKey), async () => {
        await target.resolveDefinition(start.definitionId, start.definitionVersion);
        await target.startRun({ definitionId: start.definitionId, ...(start.definitionVersion !== undefined ? { definitionVersion: start.definitionVersion } : {}), input: start.input ?? null, idempotencyKey: start.idempotencyKey, actor: start.actor ?? 'producer:kafka' });
      });
      return;
    }
    case Topics.operatorCommands: {
      const order = parseOperatorCommandMessage(message.value);
      await traced(order.runId, () => applyOperatorCommand(target, order));
      return;
    }
    case Topics.governanceDecisions: {
      const decision = parseGovernanceDecisionMessage(message.value);
      await traced(decision.runId, () => applyGovernanceDecision(target, decision));
      return;
    }
    default:
      throw new Error(`the orchestrator does not consume ${message.topic}`);
  }
}

async function applyOperatorCommand(target: MessageTarget, order: OperatorCommandMessage): Promise<void> {
  try {
    await target.execute(order.runId, operatorCommand(order), order.actor, { commandId: order.commandId });
  } catch (error) {
    // The run moved on between the operator's check and now: nothing to retry, so say so and go on.
    if (!(error instanceof DomainError)) throw error;
    target.logger.warn('operator command no longer applies', { runId: order.runId, commandId: order.commandId, command: order.command.type, code: error.code, error: error.message });
  }
}

async function applyGovernanceDecision(target: MessageTarget, decision: GovernanceDecisionMessage): Promise<void> {
  // Read from the store, not a cache: another instance may own the run and have moved it on.
  const history = await target.history(decision.runId);
  const state = history.reduce((s, e) => evolve(s, { type: e.type, data: e.data } as WorkflowEvent), initialState());
  // The decision must be about the input governance was last asked about (an operator may have edited it since).
  const asked = isStarted(state) && state.steps[decision.stepId]?.status === 'waiting_governance'
    ? history.findLast((e) => e.type === 'GovernanceCheckRequested' && (e.data as { stepId: string }).stepId === decision.stepId)
    : undefined;
  if (!asked || inputDigest((asked.data as { input: unknown }).input) !== decision.inputDigest) {
    target.logger.info('governance decision not applied: the step no longer waits for it', { runId: decision.runId, stepId: decision.stepId, requestId: decision.requestId });
    return;
  }
  await target.execute(decision.runId, { type: 'RecordGovernanceDecision', data: { stepId: decision.stepId, outcome: decision.outcome, policyId: decision.policyId, reason: decision.reason } }, `system:governance:${decision.decidedBy}`);
}
