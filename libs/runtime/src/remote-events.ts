import { externalEventKey, Topics } from '@orchestron/bus';
import type { ExternalEventMessage, MessageBus } from '@orchestron/bus';
import type { EventStore, RecordedEvent } from '@orchestron/event-store';
import { currentTraceparent } from '@orchestron/telemetry';
import { correlationStream, EXTERNAL_EVENT_ACCEPTED, foldCorrelation, runAndStep } from './correlation-stream.ts';
import type { ExternalEventAcceptedData } from './correlation-stream.ts';
import { checkPayloadSize } from './external-event-messages.ts';
import type { SendEventRequest, SendEventResult } from './run-service.ts';

/** What a wait is for: events of these streams that match. */
export type Watch = readonly (readonly [stream: string, matches: (event: RecordedEvent) => boolean])[];
export type Wait = { promise: Promise<RecordedEvent | null>; cancel(): void };

export interface RemoteEventDeps {
  readonly store: EventStore;
  readonly bus: MessageBus;
  readonly waitFor: (watch: Watch) => Wait;
  readonly settle: (wait: Wait, message: string, details: Record<string, unknown>) => Promise<RecordedEvent>;
}

/**
 * The production tier's API: an event goes to `orchestron.external.events`, where an orchestrator correlates it;
 * the answer is what it recorded in the correlation stream. A duplicate of an event already recorded is answered
 * from the stream at once, without publishing it again.
 */
export async function publishExternalEvent(deps: RemoteEventDeps, request: SendEventRequest): Promise<SendEventResult> {
  checkPayloadSize(request.payload);
  const { tenant, name, key, id, payload, actor } = request;
  const stream = correlationStream(tenant, name, key);
  const known = foldCorrelation(await deps.store.readStream(stream)).events.get(id);
  if (known) return { status: 'duplicate', eventId: id, deliveredTo: known.givenTo.map(runAndStep) };
  const accepted = deps.waitFor([
    [stream, (e) => e.type === EXTERNAL_EVENT_ACCEPTED && (e.data as ExternalEventAcceptedData).eventId === id],
  ]);
  const message: ExternalEventMessage = {
    type: 'external.event',
    tenant,
    name,
    key,
    id,
    payload: payload ?? null,
    actor,
  };
  const traceparent = currentTraceparent();
  await deps.bus
    .publish(Topics.externalEvents, [
      { key: externalEventKey(tenant, name, key), value: message, headers: traceparent ? { traceparent } : {} },
    ])
    .catch((error: unknown) => {
      accepted.cancel();
      throw error;
    });
  const answer = await deps.settle(accepted, `event ${id} was published but no orchestrator has correlated it yet`, {
    eventId: id,
  });
  const data = answer.data as ExternalEventAcceptedData;
  return data.deliveredTo.length > 0
    ? { status: 'delivered', eventId: id, deliveredTo: data.deliveredTo.map(runAndStep) }
    : { status: 'buffered', eventId: id, deliveredTo: [], expiresAt: new Date(data.expiresAt).toISOString() };
}
