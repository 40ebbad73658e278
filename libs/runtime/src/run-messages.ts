import {
  Topics,
  WireFormatError,
  parseGovernanceDecisionMessage,
  parseOperatorCommandMessage,
  parseStepEventMessage,
  parseWorkflowStartMessage,
} from '@orchestron/bus';
import type { DeliveredMessage, GovernanceDecisionMessage, OperatorCommandMessage } from '@orchestron/bus';
import { OrchestronError } from '@orchestron/errors';
import pRetry from 'p-retry';
import { withSpan } from '@orchestron/telemetry';
import { DEFAULT_TENANT, DomainError } from '@orchestron/workflow-core';
import type { RunData } from '@orchestron/workflow-core';
import type { CompiledDefinition } from '@orchestron/definitions';
import { operatorCommand, reportCommand } from './bus-commands.ts';
import { runIdForKey } from './dispatch-messages.ts';
import type { VersionChoice } from './definition-registry.ts';
import type { RunCommand, StartRunRequest } from './run-service.ts';
import type { Logger } from './ports.ts';

/** What a message about a run turns into: the engine's own operations. */
export interface MessageTarget {
  /** The run after the command, and whether the command changed it (a report or decision that no longer applies does not). */
  execute(
    runId: string,
    command: RunCommand,
    actor?: string,
    metadata?: Readonly<Record<string, string>>,
  ): Promise<{ state: RunData; changed: boolean }>;
  startRun(request: StartRunRequest): Promise<unknown>;
  /** Records that an operator command no longer applied, so the API that sent it can answer at once. */
  refused(order: OperatorCommandMessage, error: DomainError): Promise<void>;
  resolveDefinition(id: string, version: VersionChoice, tenant: string): Promise<CompiledDefinition>;
  readonly logger: Logger;
}

/**
 * A message from one of the orchestrator's topics, applied to its run inside the run's trace. A malformed
 * message throws (the bus dead-letters it with the reason); one that no longer applies is logged and dropped; a
 * transient failure (errors marked retryable: the store or the bus briefly away) is retried in place, which holds
 * back the run's later messages, not other runs'.
 */
export async function handleRunMessage(target: MessageTarget, message: DeliveredMessage): Promise<void> {
  // Parsed first: a malformed message is dead-lettered at once, while a transient failure of the work is retried.
  const parsed = toRunMessage(message);
  const work = (): Promise<void> => applyRunMessage(target, parsed);
  await pRetry(
    () =>
      withSpan(
        `orchestrator ${message.topic}`,
        {
          headers: message.headers ?? {},
          runId: parsed.runId,
          kind: 'consumer',
          attributes: { 'messaging.destination.name': message.topic, 'messaging.kafka.partition': message.partition },
        },
        work,
      ),
    {
      ...TRANSIENT_RETRY,
      shouldRetry: ({ error }) => transient(error),
      onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
        if (transient(error) && retriesLeft > 0)
          target.logger.warn('message handling failed; trying again', {
            runId: parsed.runId,
            topic: message.topic,
            attempt: attemptNumber,
            error: `${error.name}: ${error.message}`,
          });
      },
    },
  );
}

/** A store or bus that is briefly unavailable: retried with backoff and jitter for about half a minute, then dead-lettered. */
const TRANSIENT_RETRY = { retries: 8, minTimeout: 250, maxTimeout: 8_000, factor: 2, randomize: true } as const;

function transient(error: unknown): boolean {
  return error instanceof OrchestronError && error.retryable;
}

/** What a message on one of the orchestrator's topics asks of its run: parsed and checked, nothing done yet. */
export type RunMessage =
  | { readonly kind: 'start'; readonly runId: string; readonly request: StartRunRequest }
  | { readonly kind: 'report'; readonly runId: string; readonly command: RunCommand }
  | {
      readonly kind: 'operator';
      readonly runId: string;
      readonly command: RunCommand;
      readonly order: OperatorCommandMessage;
    }
  | {
      readonly kind: 'governance';
      readonly runId: string;
      readonly command: RunCommand;
      readonly decision: GovernanceDecisionMessage;
    };

/** Pure: the message's run and what it asks. Throws WireFormatError (the bus dead-letters it) for a malformed one. */
export function toRunMessage(message: DeliveredMessage): RunMessage {
  switch (message.topic) {
    case Topics.stepEvents: {
      const report = parseStepEventMessage(message.value);
      return { kind: 'report', runId: report.runId, command: reportCommand(report) };
    }
    case Topics.workflowStarts: {
      const start = parseWorkflowStartMessage(message.value);
      const tenant = start.tenant ?? DEFAULT_TENANT;
      const request: StartRunRequest = {
        definitionId: start.definitionId,
        definitionVersion: start.definitionVersion ?? 'latest',
        input: start.input ?? null,
        idempotencyKey: start.idempotencyKey,
        actor: start.actor ?? 'producer:kafka',
        tenant,
        ...(start.keyId !== undefined ? { keyId: start.keyId } : {}),
      };
      return { kind: 'start', runId: runIdForKey(start.definitionId, start.idempotencyKey, tenant), request };
    }
    case Topics.operatorCommands: {
      const order = parseOperatorCommandMessage(message.value);
      return { kind: 'operator', runId: order.runId, command: operatorCommand(order), order };
    }
    case Topics.governanceDecisions: {
      const decision = parseGovernanceDecisionMessage(message.value);
      const { stepId, outcome, policyId, reason, code, inputDigest } = decision;
      const command: RunCommand = {
        type: 'RecordGovernanceDecision',
        data: { stepId, outcome, policyId, reason, inputDigest, ...(code === undefined ? {} : { code }) },
      };
      return { kind: 'governance', runId: decision.runId, command, decision };
    }
    default:
      throw new WireFormatError(`the orchestrator does not consume ${message.topic}`);
  }
}

async function applyRunMessage(target: MessageTarget, message: RunMessage): Promise<void> {
  switch (message.kind) {
    case 'report':
      await target.execute(message.runId, message.command);
      return;
    case 'start':
      await target.resolveDefinition(
        message.request.definitionId as string,
        message.request.definitionVersion ?? 'latest',
        message.request.tenant ?? DEFAULT_TENANT,
      );
      await target.startRun(message.request);
      return;
    case 'operator':
      return applyOperatorCommand(target, message.order, message.command);
    case 'governance':
      return applyGovernanceDecision(target, message.decision, message.command);
    default: {
      const never: never = message;
      throw new Error(`unknown run message ${JSON.stringify(never)}`);
    }
  }
}

async function applyOperatorCommand(
  target: MessageTarget,
  order: OperatorCommandMessage,
  command: RunCommand,
): Promise<void> {
  try {
    await target.execute(order.runId, command, order.actor, {
      commandId: order.commandId,
      ...(order.keyId !== undefined ? { keyId: order.keyId } : {}),
    });
  } catch (error) {
    // The run moved on between the operator's check and now: nothing to retry; the API is told, with the code.
    if (!(error instanceof DomainError)) throw error;
    target.logger.warn('operator command no longer applies', {
      runId: order.runId,
      commandId: order.commandId,
      command: order.command.type,
      code: error.code,
      error: error.message,
    });
    await target.refused(order, error);
  }
}

/** The decider ignores a decision about another input than the one it last asked about (an operator's retry came between). */
async function applyGovernanceDecision(
  target: MessageTarget,
  decision: GovernanceDecisionMessage,
  command: RunCommand,
): Promise<void> {
  const { runId, stepId } = decision;
  const { changed } = await target.execute(runId, command, `system:governance:${decision.decidedBy}`);
  if (!changed)
    target.logger.info('governance decision not applied: the step no longer waits for it', {
      runId,
      stepId,
      requestId: decision.requestId,
    });
}
