import type { OperatorCommandMessage } from '@orchestron/bus';
import { ExpectedVersionConflictError } from '@orchestron/event-store';
import type { EventStore, RecordedEvent } from '@orchestron/event-store';
import { DomainError } from '@orchestron/workflow-core';
import type { DomainErrorCode } from '@orchestron/workflow-core';

/*
 * An operator command the API checked but the orchestrator refused (the run moved on in between) is recorded in a
 * stream of its own, which the API follows on the global log: it answers its caller with the domain's code at
 * once, instead of timing out.
 */

const REFUSED = 'OperatorCommandRefused';

/** Where the refusal of one command is recorded. */
export const refusalStream = (commandId: string): string => `refusal-${commandId}`;

/** Records the refusal once (a redelivered command finds it there already). */
export async function recordRefusal(
  store: EventStore,
  order: OperatorCommandMessage,
  error: DomainError,
): Promise<void> {
  const data = {
    commandId: order.commandId,
    runId: order.runId,
    command: order.command.type,
    code: error.code,
    message: error.message,
  };
  try {
    await store.append(refusalStream(order.commandId), [{ type: REFUSED, data, metadata: { actor: order.actor } }], {
      expectedRevision: 'no_stream',
    });
  } catch (conflict) {
    if (!(conflict instanceof ExpectedVersionConflictError)) throw conflict;
  }
}

/** The domain error a recorded refusal stands for, or null for any other event. */
export function refusalError(event: RecordedEvent): DomainError | null {
  if (event.type !== REFUSED) return null;
  const { code, message, runId, commandId } = event.data as {
    code: DomainErrorCode;
    message: string;
    runId: string;
    commandId: string;
  };
  return new DomainError(code, `the orchestrator refused it: ${message}`, { runId, commandId });
}
