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
import type { RunState, Unapplied } from '@orchestron/workflow-core';
import { quoteForMessage } from '@orchestron/definitions';
import type { CompiledDefinition } from '@orchestron/definitions';
import { operatorCommand, reportCommand } from './bus-commands.ts';
import { runIdForKey } from './dispatch-messages.ts';
import type { VersionChoice } from './definition-registry.ts';
import type { RunCommand, StartRunRequest } from './run-service.ts';
import type { Logger } from './ports.ts';

/** What a message about a run turns into: the engine's own operations. */
export interface MessageTarget {
  /** The run after the command, and why the command changed nothing when it did not (see Unapplied). */
  execute(
    runId: string,
    command: RunCommand,
    actor?: string,
    metadata?: Readonly<Record<string, string>>,
  ): Promise<{ state: RunState; unapplied: Unapplied | null }>;
  startRun(request: StartRunRequest): Promise<{ created: boolean }>;
  /** Records that an operator command no longer applied, so the API that sent it can answer at once. */
  refused(order: OperatorCommandMessage, error: DomainError): Promise<void>;
  resolveDefinition(id: string, version: VersionChoice, tenant: string): Promise<CompiledDefinition>;
  /** Told of every governance decision before it is recorded (standing rulings, ADR 40). */
  governanceRuled?(decision: GovernanceDecisionMessage): void;
  readonly logger: Logger;
}

/**
 * A message from one of the orchestrator's topics, applied to its run inside the run's trace. A malformed
 * message throws (the bus dead-letters it with the reason), and so does one about a run, step or attempt that does
 * not exist; a known no-op (a duplicate, late or stale report) is logged at debug with its reason; a transient
 * failure (errors marked retryable: the store or the bus briefly away) is retried in place, which holds
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

/** A failure marked retryable (the store or the bus briefly away): worth trying again in place. */
export function transient(error: unknown): boolean {
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
        // A fork without an input keeps its parent's.
        ...(start.fork !== undefined && start.input === undefined ? {} : { input: start.input ?? null }),
        idempotencyKey: start.idempotencyKey,
        actor: start.actor ?? 'producer:kafka',
        tenant,
        ...(start.keyId !== undefined ? { keyId: start.keyId } : {}),
        ...(start.fork !== undefined ? { fork: start.fork } : {}),
        ...(start.budget !== undefined ? { budget: start.budget } : {}),
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
    case 'report': {
      const { unapplied } = await target.execute(message.runId, message.command);
      return settleUnapplied(target.logger, message, unapplied);
    }
    case 'start': {
      await target.resolveDefinition(
        message.request.definitionId as string,
        message.request.definitionVersion ?? 'latest',
        message.request.tenant ?? DEFAULT_TENANT,
      );
      const { created } = await target.startRun(message.request);
      if (!created)
        target.logger.debug?.('message changed nothing', {
          runId: message.runId,
          messageType: 'workflow.start',
          reason: 'duplicate_start',
          detail: 'the run was already started with this idempotency key',
        });
      return;
    }
    case 'operator':
      return applyOperatorCommand(target, message);
    case 'governance': {
      const { runId, decision, command } = message;
      target.governanceRuled?.(decision);
      const { unapplied } = await target.execute(runId, command, `system:governance:${decision.decidedBy}`);
      return settleUnapplied(target.logger, message, unapplied);
    }
    default: {
      const never: never = message;
      throw new Error(`unknown run message ${JSON.stringify(never)}`);
    }
  }
}

async function applyOperatorCommand(target: MessageTarget, message: Extract<RunMessage, { kind: 'operator' }>) {
  const { order, command } = message;
  let unapplied: Unapplied | null;
  try {
    ({ unapplied } = await target.execute(order.runId, command, order.actor, {
      commandId: order.commandId,
      ...(order.keyId !== undefined ? { keyId: order.keyId } : {}),
    }));
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
    return;
  }
  settleUnapplied(target.logger, message, unapplied);
}

/**
 * A message that changed nothing. A known no-op (a duplicate, late or stale report, a ruling no longer awaited) is
 * logged at debug with its reason; one the decider rejects (an unknown run, step or attempt) throws, so the bus
 * dead-letters it with the reason: nothing vanishes.
 */
export function settleUnapplied(logger: Logger, message: RunMessage, unapplied: Unapplied | null): void {
  if (unapplied === null) return;
  const fields = { runId: message.runId, messageType: wireName(message), ...subjectOf(message) };
  switch (unapplied.type) {
    case 'Ignore':
      logger.debug?.('message changed nothing', {
        ...fields,
        reason: unapplied.data.reason,
        detail: unapplied.data.message,
      });
      return;
    case 'Reject':
      throw new DomainError(
        unapplied.data.code,
        `${fields.messageType} for run ${quoteForMessage(message.runId)} rejected (${unapplied.data.code}): ${unapplied.data.message}`,
        fields,
      );
    default: {
      const never: never = unapplied;
      throw new Error(`unknown unapplied ${JSON.stringify(never)}`);
    }
  }
}

const REPORT_NAMES: Readonly<Record<string, string>> = {
  RecordStepStarted: 'step.started',
  RecordStepHeartbeat: 'step.heartbeat',
  RecordStepCompleted: 'step.completed',
  RecordStepFailed: 'step.failed',
};

/** The message's name on the wire, as a stranger reading the dead letter knows it. */
function wireName(message: RunMessage): string {
  switch (message.kind) {
    case 'report':
      return REPORT_NAMES[message.command.type] ?? message.command.type;
    case 'start':
      return 'workflow.start';
    case 'operator':
      return `operator.command ${message.order.command.type}`;
    case 'governance':
      return 'governance.decision';
  }
}

function subjectOf(message: RunMessage): Record<string, unknown> {
  const data = message.kind === 'start' ? {} : (message.command.data as Record<string, unknown>);
  return {
    ...(typeof data.stepId === 'string' ? { stepId: data.stepId } : {}),
    ...(typeof data.attempt === 'number' ? { attempt: data.attempt } : {}),
    ...(typeof data.phase === 'string' ? { phase: data.phase } : {}),
  };
}
