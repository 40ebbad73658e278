import {
  context,
  createContextKey,
  defaultTextMapSetter,
  INVALID_SPAN_CONTEXT,
  isSpanContextValid,
  ProxyTracerProvider,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  TraceFlags,
  type Attributes,
  type Context,
  type Link,
  type Span,
  type SpanContext,
  type TextMapGetter,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { spanIdForRun, traceIdForRun } from './trace-ids.ts';

/** Incoming message or request headers: Kafka headers as the bus gives them, or Node's `IncomingHttpHeaders`. */
export type CarrierHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

export type SpanKindName = 'internal' | 'server' | 'client' | 'producer' | 'consumer';

export interface WithSpanOptions {
  /** Incoming headers; a valid `traceparent` among them becomes the span's parent. */
  readonly headers?: CarrierHeaders;
  /** The run this work belongs to: the span goes into the run's trace even with no incoming header. */
  readonly runId?: string;
  readonly kind?: SpanKindName;
  readonly attributes?: Attributes;
}

/** The attribute naming the run on every span started with a `runId`. */
export const RUN_ID_ATTRIBUTE = 'orchestron.run.id';

const TRACER_NAME = '@orchestron/telemetry';
const KINDS: Record<SpanKindName, SpanKind> = {
  internal: SpanKind.INTERNAL,
  server: SpanKind.SERVER,
  client: SpanKind.CLIENT,
  producer: SpanKind.PRODUCER,
  consumer: SpanKind.CONSUMER,
};
// Used directly rather than through the global propagator, so headers are read and written the same way whether
// or not startTracing has run.
const w3c = new W3CTraceContextPropagator();
const headerGetter: TextMapGetter<CarrierHeaders> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => {
    const found = Object.keys(carrier).find((name) => name.toLowerCase() === key);
    const value = found === undefined ? undefined : carrier[found];
    return typeof value === 'string' ? value : value?.[0];
  },
};

/**
 * Runs `fn` inside an active span and ends the span when `fn` settles; a throw or rejection is recorded on the
 * span, sets its status to error, and is rethrown. The parent is, in order: the incoming `traceparent`; the
 * active span; with a `runId`, the run's own remote root (see `traceIdForRun`); otherwise the span is a new root.
 * With a `runId` the span always lands in the run's trace, so one run stays one trace: a header or active span
 * from another trace (an external caller's, say) is kept as a link instead of becoming the parent.
 */
export async function withSpan<T>(
  name: string,
  options: WithSpanOptions,
  fn: (span: Span) => T | Promise<T>,
): Promise<T> {
  if (tracingIsOff() && options.runId !== '') return fn(NON_RECORDING_SPAN);
  const { parent, root, links } = parentFor(options);
  const attributes: Attributes =
    options.runId === undefined
      ? { ...options.attributes }
      : { ...options.attributes, [RUN_ID_ATTRIBUTE]: options.runId };
  const tracer = trace.getTracer(TRACER_NAME);
  return tracer.startActiveSpan(
    name,
    { kind: KINDS[options.kind ?? 'internal'], attributes, links, root },
    parent,
    async (span) => {
      try {
        return await fn(span);
      } catch (error) {
        span.recordException(error instanceof Error ? error : String(error));
        span.setStatus({
          code: SpanStatusCode.ERROR,
          message: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
        });
        throw error;
      } finally {
        span.end();
      }
    },
  );
}

// What the API hands out when nothing is registered: the no-op provider, and a context manager that keeps nothing.
const NOOP_PROVIDER = new ProxyTracerProvider().getDelegate();
const PROBE = ROOT_CONTEXT.setValue(createContextKey('orchestron.telemetry.probe'), true);
const NON_RECORDING_SPAN = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/**
 * True when no tracer provider and no context manager are registered (neither startTracing nor other code did):
 * a span could then be neither recorded nor seen by anything `fn` calls, so withSpan skips building one. Asked on
 * every call, since either may be registered at any time.
 */
function tracingIsOff(): boolean {
  const provider = trace.getTracerProvider();
  const delegate = provider instanceof ProxyTracerProvider ? provider.getDelegate() : provider;
  return delegate === NOOP_PROVIDER && context.with(PROBE, () => context.active()) !== PROBE;
}

function parentFor(options: WithSpanOptions): { parent: Context; root: boolean; links: Link[] } {
  const base = context.active();
  const runTraceId = options.runId === undefined ? undefined : traceIdForRun(options.runId);
  const candidates = [
    options.headers === undefined ? undefined : incomingSpanContext(options.headers),
    trace.getSpanContext(base),
  ].filter((candidate): candidate is SpanContext => candidate !== undefined && isSpanContextValid(candidate));
  const chosen = candidates.find((candidate) => runTraceId === undefined || candidate.traceId === runTraceId);
  if (chosen !== undefined) return { parent: trace.setSpanContext(base, chosen), root: false, links: [] };
  if (options.runId !== undefined && runTraceId !== undefined) {
    const runRoot: SpanContext = {
      traceId: runTraceId,
      spanId: spanIdForRun(options.runId),
      traceFlags: TraceFlags.SAMPLED,
      isRemote: true,
    };
    return {
      parent: trace.setSpanContext(base, runRoot),
      root: false,
      links: candidates.map((linked) => ({ context: linked })),
    };
  }
  return { parent: trace.deleteSpan(base), root: true, links: [] };
}

function incomingSpanContext(headers: CarrierHeaders): SpanContext | undefined {
  return trace.getSpanContext(w3c.extract(ROOT_CONTEXT, headers, headerGetter));
}

/** Headers that carry the active span's context onward (`traceparent`, and `tracestate` when there is one). */
export function injectHeaders(): Record<string, string> {
  const carrier: Record<string, string> = {};
  w3c.inject(context.active(), carrier, defaultTextMapSetter);
  return carrier;
}

/** The W3C `traceparent` of the active span, to put on an outgoing message; undefined outside any span. */
export function currentTraceparent(): string | undefined {
  return injectHeaders().traceparent;
}

export function currentTraceId(): string | undefined {
  return activeSpanContext()?.traceId;
}

export function currentSpanId(): string | undefined {
  return activeSpanContext()?.spanId;
}

function activeSpanContext(): SpanContext | undefined {
  const spanContext = trace.getSpanContext(context.active());
  return spanContext !== undefined && isSpanContextValid(spanContext) ? spanContext : undefined;
}
