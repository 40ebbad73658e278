import type { ExpectedRevision, EventHandler, SubscribeToAllOptions } from './event-store.port.ts';

/** An event checked and serialized once, so every adapter stores exactly what the port accepted. */
export interface PreparedEvent {
  readonly id: string;
  readonly type: string;
  readonly dataJson: string;
  readonly metadataJson: string;
}

export interface PreparedAppend {
  readonly streamId: string;
  readonly expectedRevision: ExpectedRevision;
  readonly events: readonly PreparedEvent[];
}

export interface NormalizedReadStreamOptions {
  readonly fromRevision: number | undefined;
  readonly direction: 'forwards' | 'backwards';
  readonly maxCount: number | undefined;
}

export interface NormalizedReadAllOptions {
  readonly after: number;
  readonly maxCount: number | undefined;
}

export interface NormalizedSubscribeOptions {
  readonly after: number;
  readonly onError: ((error: unknown) => void) | undefined;
}

export function assertStreamId(streamId: unknown): asserts streamId is string {
  if (typeof streamId !== 'string' || streamId.length === 0) throw new TypeError('streamId must be a non-empty string');
}

export function prepareAppend(
  streamId: unknown,
  events: unknown,
  options: unknown,
  newId: () => string,
): PreparedAppend {
  assertStreamId(streamId);
  if (!Array.isArray(events)) throw new TypeError('events must be an array');
  const record = optionalRecord(options, 'options');
  const expectedRevision = normalizeExpectedRevision(record['expectedRevision']);
  const prepared = events.map((event: unknown, index) => prepareEvent(event, `events[${index}]`, newId));
  return { streamId, expectedRevision, events: prepared };
}

export function normalizeReadStreamOptions(streamId: unknown, options: unknown): NormalizedReadStreamOptions {
  assertStreamId(streamId);
  const record = optionalRecord(options, 'options');
  const direction = record['direction'] ?? 'forwards';
  if (direction !== 'forwards' && direction !== 'backwards')
    throw new TypeError("direction must be 'forwards' or 'backwards'");
  return {
    fromRevision: optionalNonNegativeInteger(record['fromRevision'], 'fromRevision'),
    direction,
    maxCount: optionalNonNegativeInteger(record['maxCount'], 'maxCount'),
  };
}

export function normalizeReadAllOptions(options: unknown): NormalizedReadAllOptions {
  const record = optionalRecord(options, 'options');
  return {
    after: optionalNonNegativeInteger(record['after'], 'after') ?? 0,
    maxCount: optionalNonNegativeInteger(record['maxCount'], 'maxCount'),
  };
}

export function normalizeSubscribeArguments(
  options: SubscribeToAllOptions,
  handler: EventHandler,
): NormalizedSubscribeOptions {
  const record = optionalRecord(options, 'options');
  if (typeof handler !== 'function') throw new TypeError('handler must be a function');
  const onError = record['onError'];
  if (onError !== undefined && typeof onError !== 'function') throw new TypeError('onError must be a function');
  return {
    after: optionalNonNegativeInteger(record['after'], 'after') ?? 0,
    onError: onError as ((error: unknown) => void) | undefined,
  };
}

function prepareEvent(event: unknown, field: string, newId: () => string): PreparedEvent {
  if (!isRecord(event)) throw new TypeError(`${field} must be an object`);
  const { id, type, data, metadata } = event;
  if (id !== undefined && (typeof id !== 'string' || id.length === 0))
    throw new TypeError(`${field}.id must be a non-empty string when given`);
  if (typeof type !== 'string' || type.length === 0) throw new TypeError(`${field}.type must be a non-empty string`);
  if (metadata !== undefined && !isRecord(metadata))
    throw new TypeError(`${field}.metadata must be a plain object when given`);
  return {
    id: id ?? newId(),
    type,
    dataJson: toJson(data, `${field}.data`),
    metadataJson: toJson(metadata ?? {}, `${field}.metadata`),
  };
}

function toJson(value: unknown, field: string): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (error) {
    throw new TypeError(`${field} must be JSON-serializable`, { cause: error });
  }
  if (json === undefined) throw new TypeError(`${field} must be JSON-serializable`);
  return json;
}

function normalizeExpectedRevision(value: unknown): ExpectedRevision {
  if (value === undefined) return 'any';
  if (value === 'any' || value === 'no_stream' || value === 'stream_exists') return value;
  if (isNonNegativeInteger(value)) return value;
  throw new TypeError("expectedRevision must be 'any', 'no_stream', 'stream_exists' or a non-negative integer");
}

function optionalNonNegativeInteger(value: unknown, field: string): number | undefined {
  if (value === undefined) return undefined;
  if (!isNonNegativeInteger(value)) throw new TypeError(`${field} must be a non-negative integer`);
  return value;
}

function optionalRecord(value: unknown, field: string): Record<string, unknown> {
  if (value === undefined) return {};
  if (!isRecord(value)) throw new TypeError(`${field} must be an object`);
  return value;
}

function isNonNegativeInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
