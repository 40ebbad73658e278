import { TENANT_PATTERN } from '@orchestron/definitions';
import { wireParser } from './wire.ts';

/** Longest event name (the definition schema bounds `event` the same way). */
export const MAX_EVENT_NAME = 200;
/** Longest correlation key an event may carry (and a step's `match` may evaluate to). */
export const MAX_EVENT_KEY = 512;
/** Longest producer-chosen event id. */
export const MAX_EVENT_ID = 200;
/** How long an event no step waits for is kept for one that will, unless ORCHESTRON_EVENT_BUFFER says otherwise. */
export const DEFAULT_EVENT_BUFFER_MS = 24 * 3_600_000;
/** Largest payload, as JSON: it is kept in the correlation stream and becomes the output of every step it reaches. */
export const MAX_EVENT_PAYLOAD_BYTES = 256 * 1024;

/**
 * `external.event` on `orchestron.external.events`, keyed by `<tenant>/<name>/<key>`: an event from outside for the
 * runs of `tenant` whose event steps wait for `name` with `key`. `id` is the producer's: an event whose id was
 * already taken for the same name and key is a duplicate, and ignored. An event no step waits for yet is kept for
 * the buffer window (ORCHESTRON_EVENT_BUFFER) and handed to the first step that starts waiting for it.
 */
export interface ExternalEventMessage {
  readonly type: 'external.event';
  readonly name: string;
  readonly key: string;
  readonly id: string;
  readonly payload?: unknown;
  /** Whose runs it is for. Default `default`. */
  readonly tenant?: string;
  /** Who sent it; recorded with the events it causes. Default `producer:kafka`. */
  readonly actor?: string;
}

export const externalEventSchema = {
  type: 'object',
  required: ['type', 'name', 'key', 'id'],
  properties: {
    type: { const: 'external.event' },
    name: { type: 'string', minLength: 1, maxLength: MAX_EVENT_NAME },
    key: { type: 'string', minLength: 1, maxLength: MAX_EVENT_KEY },
    id: { type: 'string', minLength: 1, maxLength: MAX_EVENT_ID },
    payload: {},
    tenant: { type: 'string', pattern: TENANT_PATTERN },
    actor: { type: 'string', minLength: 1, maxLength: 200 },
  },
} as const;

export const parseExternalEventMessage = wireParser<ExternalEventMessage>(
  externalEventSchema,
  'external.event message',
);

/** The Kafka key of an event: one partition per name and key, so the events of one correlation arrive in order. */
export function externalEventKey(tenant: string, name: string, key: string): string {
  return `${tenant}/${name}/${key}`;
}
