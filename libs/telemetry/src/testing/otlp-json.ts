// Turns an OTLP/HTTP JSON ExportTraceServiceRequest into flat span records. The JSON mapping is the one
// @opentelemetry/exporter-trace-otlp-http sends: hex ids, nanosecond timestamps as strings, typed attribute values.

/** One span as the file collector writes it: one NDJSON line each. */
export interface CollectedSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId?: string;
  readonly name: string;
  readonly kind: 'unspecified' | 'internal' | 'server' | 'client' | 'producer' | 'consumer';
  /** `service.name` of the exporting process. */
  readonly service: string;
  /** `service.instance.id`, when the process set one. */
  readonly instance?: string;
  readonly startTime: string;
  readonly endTime: string;
  /** Nanoseconds since the epoch as a decimal string: exact, for ordering. */
  readonly startTimeUnixNano: string;
  readonly durationMs: number;
  readonly status: { readonly code: 'unset' | 'ok' | 'error'; readonly message?: string };
  readonly attributes: Record<string, unknown>;
  readonly events?: ReadonlyArray<{
    readonly name: string;
    readonly time: string;
    readonly attributes: Record<string, unknown>;
  }>;
  /** Spans in other traces this one is linked to (withSpan links an incoming context it did not parent on). */
  readonly links?: ReadonlyArray<{ readonly traceId: string; readonly spanId: string }>;
}

const KINDS = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'] as const;
const STATUS = ['unset', 'ok', 'error'] as const;

type Json = Record<string, unknown>;

export class OtlpRequestError extends Error {
  override readonly name = 'OtlpRequestError';
}

export function spansFromOtlpJson(body: unknown): CollectedSpan[] {
  const resourceSpans = field(body, 'resourceSpans', 'request');
  if (resourceSpans === undefined) return [];
  const out: CollectedSpan[] = [];
  for (const [r, resourceSpan] of list(resourceSpans, 'resourceSpans').entries()) {
    const resource = attributes(
      field(field(resourceSpan, 'resource', `resourceSpans[${r}]`) ?? {}, 'attributes', `resourceSpans[${r}].resource`),
    );
    const service = typeof resource['service.name'] === 'string' ? resource['service.name'] : 'unknown_service';
    const instance = typeof resource['service.instance.id'] === 'string' ? resource['service.instance.id'] : undefined;
    for (const [s, scopeSpan] of list(
      field(resourceSpan, 'scopeSpans', `resourceSpans[${r}]`) ?? [],
      'scopeSpans',
    ).entries()) {
      for (const [i, span] of list(field(scopeSpan, 'spans', `scopeSpans[${s}]`) ?? [], 'spans').entries()) {
        out.push(toSpan(span as Json, `resourceSpans[${r}].scopeSpans[${s}].spans[${i}]`, service, instance));
      }
    }
  }
  return out;
}

function toSpan(span: Json, where: string, service: string, instance: string | undefined): CollectedSpan {
  const start = nanos(span.startTimeUnixNano, `${where}.startTimeUnixNano`);
  const end = nanos(span.endTimeUnixNano, `${where}.endTimeUnixNano`);
  const parentSpanId =
    span.parentSpanId === undefined || span.parentSpanId === ''
      ? undefined
      : id(span.parentSpanId, 16, `${where}.parentSpanId`);
  const status = (span.status ?? {}) as Json;
  const events = list(span.events ?? [], `${where}.events`).map((event) => {
    const e = event as Json;
    return {
      name: String(e.name ?? ''),
      time: isoTime(nanos(e.timeUnixNano, `${where}.events.timeUnixNano`)),
      attributes: attributes(e.attributes),
    };
  });
  const links = list(span.links ?? [], `${where}.links`).map((link, index) => {
    const l = link as Json;
    return {
      traceId: id(l.traceId, 32, `${where}.links[${index}].traceId`),
      spanId: id(l.spanId, 16, `${where}.links[${index}].spanId`),
    };
  });
  return {
    traceId: id(span.traceId, 32, `${where}.traceId`),
    spanId: id(span.spanId, 16, `${where}.spanId`),
    ...(parentSpanId === undefined ? {} : { parentSpanId }),
    name: String(span.name ?? ''),
    kind: KINDS[Number(span.kind ?? 0)] ?? 'unspecified',
    service,
    ...(instance === undefined ? {} : { instance }),
    startTime: isoTime(start),
    endTime: isoTime(end),
    startTimeUnixNano: start.toString(),
    durationMs: Number(end - start) / 1e6,
    status: {
      code: STATUS[Number(status.code ?? 0)] ?? 'unset',
      ...(typeof status.message === 'string' && status.message !== '' ? { message: status.message } : {}),
    },
    attributes: attributes(span.attributes),
    ...(events.length === 0 ? {} : { events }),
    ...(links.length === 0 ? {} : { links }),
  };
}

function field(value: unknown, name: string, where: string): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new OtlpRequestError(`${where} must be an object`);
  return (value as Json)[name];
}

function list(value: unknown, where: string): unknown[] {
  if (!Array.isArray(value)) throw new OtlpRequestError(`${where} must be an array`);
  return value;
}

/** Ids are hex in OTLP/JSON; the plain protobuf JSON mapping would give base64, which is accepted too. */
function id(value: unknown, hexLength: number, where: string): string {
  if (typeof value !== 'string') throw new OtlpRequestError(`${where} must be a string`);
  if (value.length === hexLength && /^[0-9a-f]+$/i.test(value)) return value.toLowerCase();
  const decoded = Buffer.from(value, 'base64').toString('hex');
  if (decoded.length === hexLength) return decoded;
  throw new OtlpRequestError(`${where} must be ${hexLength} hex digits, got "${value}"`);
}

function nanos(value: unknown, where: string): bigint {
  if ((typeof value === 'string' && /^\d+$/.test(value)) || (typeof value === 'number' && Number.isSafeInteger(value)))
    return BigInt(value);
  throw new OtlpRequestError(`${where} must be an integer number of nanoseconds, got ${JSON.stringify(value)}`);
}

function isoTime(unixNanos: bigint): string {
  return new Date(Number(unixNanos / 1_000_000n)).toISOString();
}

function attributes(value: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const item of Array.isArray(value) ? value : []) {
    const { key, value: typed } = item as { key?: unknown; value?: unknown };
    if (typeof key === 'string') out[key] = anyValue(typed);
  }
  return out;
}

function anyValue(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  const v = value as Json;
  if ('stringValue' in v) return v.stringValue;
  if ('boolValue' in v) return v.boolValue;
  if ('intValue' in v) return Number(v.intValue);
  if ('doubleValue' in v) return Number(v.doubleValue);
  if ('bytesValue' in v) return v.bytesValue;
  if ('arrayValue' in v)
    return (((v.arrayValue as Json | undefined)?.values as unknown[] | undefined) ?? []).map(anyValue);
  if ('kvlistValue' in v) return attributes((v.kvlistValue as Json | undefined)?.values);
  return undefined;
}
