import { MAX_EVENT_PAYLOAD_BYTES, parseExternalEventMessage, WireFormatError } from '@orchestron/bus';
import type { DeliveredMessage } from '@orchestron/bus';
import pRetry from 'p-retry';
import { DEFAULT_TENANT } from '@orchestron/workflow-core';
import { transient } from './run-messages.ts';
import type { Logger } from './ports.ts';
import type { SendEventRequest, SendEventResult } from './run-service.ts';

/** Parsed and bounded, nothing done yet; throws WireFormatError (the bus dead-letters it with the reason). */
export function toSendEventRequest(message: DeliveredMessage): SendEventRequest {
  const event = parseExternalEventMessage(message.value);
  checkPayloadSize(event.payload);
  return {
    tenant: event.tenant ?? DEFAULT_TENANT,
    name: event.name,
    key: event.key,
    id: event.id,
    payload: event.payload ?? null,
    actor: event.actor ?? 'producer:kafka',
  };
}

/** A payload becomes the output of every step it reaches, and is kept in the correlation stream: it is bounded. */
export function checkPayloadSize(payload: unknown): void {
  const size = Buffer.byteLength(JSON.stringify(payload ?? null), 'utf8');
  if (size > MAX_EVENT_PAYLOAD_BYTES)
    throw new WireFormatError(
      `the event's payload is ${size} bytes of JSON, over the limit of ${MAX_EVENT_PAYLOAD_BYTES}`,
    );
}

/** One message of `orchestron.external.events`: correlated, retried in place while the store is briefly away. */
export async function handleExternalEventMessage(
  receive: (request: SendEventRequest) => Promise<SendEventResult>,
  message: DeliveredMessage,
  logger: Logger,
): Promise<void> {
  const request = toSendEventRequest(message);
  const result = await pRetry(() => receive(request), {
    retries: 8,
    minTimeout: 250,
    maxTimeout: 8_000,
    shouldRetry: ({ error }) => transient(error),
  });
  logger.info('external event', {
    name: request.name,
    eventId: request.id,
    status: result.status,
    runs: result.deliveredTo.map((t) => t.runId),
  });
}
