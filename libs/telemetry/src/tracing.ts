import { context, diag, DiagLogLevel, propagation, ROOT_CONTEXT, trace, type DiagLogger } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_INSTANCE_ID, ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { AsyncLocalStorageContext } from './context-manager.ts';
import { createLogger, type Logger } from './logger.ts';

export interface TracingOptions {
  /** `service.name` on every span this process exports, e.g. `orchestrator`. */
  readonly serviceName: string;
  /** `service.instance.id`, to tell replicas apart, e.g. `orchestrator-1` or a host name. */
  readonly serviceInstance?: string;
  /** The OTLP/HTTP base URL (`/v1/traces` is appended). Defaults to `OTEL_EXPORTER_OTLP_ENDPOINT`. */
  readonly endpoint?: string;
  /** How long spans wait in the batch before export. Short by default so a trace shows up while you look. */
  readonly scheduledDelayMillis?: number;
  /**
   * How long `shutdown()` waits for the last spans to be delivered (default 3000 ms). The exporter retries a
   * collector that is down for up to ~10 s, and a service's shutdown should not wait on that.
   */
  readonly shutdownTimeoutMillis?: number;
  /** Where export failures go (as warnings and errors). Defaults to JSON lines on stderr. */
  readonly logger?: Pick<Logger, 'warn' | 'error'>;
}

export interface Tracing {
  /** True when spans are exported; false when no endpoint is configured and tracing only carries context. */
  readonly exporting: boolean;
  /** The OTLP traces URL spans go to, when exporting. */
  readonly url?: string;
  /** Flushes pending spans, then unregisters everything so tracing can be started again (tests do). */
  shutdown(): Promise<void>;
}

let started: string | undefined;

/**
 * Starts tracing for this process: the W3C trace-context propagator, an AsyncLocalStorage context manager and,
 * when an endpoint is configured, a tracer provider that batches spans to an OTLP/HTTP collector as JSON.
 * With no endpoint nothing is exported and spans are non-recording, but an incoming trace context still reaches
 * logs and outgoing headers.
 */
export function startTracing(options: TracingOptions): Tracing {
  if (typeof options.serviceName !== 'string' || options.serviceName.trim() === '')
    throw new Error('startTracing: serviceName must be a non-empty string');
  if (started !== undefined)
    throw new Error(
      `startTracing: tracing is already started in this process (service "${started}"); call shutdown() on it first`,
    );
  const url = tracesUrl(options.endpoint);

  // The OTel API keeps the first registration of each global and ignores later ones; a service whose spans went
  // to someone else's provider would look traced and export nothing, so a clash is an error here.
  const taken = (what: string): Error =>
    new Error(
      `startTracing: another OpenTelemetry ${what} is already registered in this process, by code other than startTracing`,
    );
  if (!context.setGlobalContextManager(new AsyncLocalStorageContext())) throw taken('context manager');
  if (!propagation.setGlobalPropagator(new W3CTraceContextPropagator())) {
    context.disable();
    throw taken('propagator');
  }
  started = options.serviceName;
  let ownsProvider = false;
  const unregister = (): void => {
    if (ownsProvider) trace.disable();
    propagation.disable();
    context.disable();
    diag.disable();
    started = undefined;
  };
  if (url === undefined) return { exporting: false, shutdown: async () => unregister() };

  const logger = options.logger ?? createLogger({ service: options.serviceName, instance: options.serviceInstance });
  diag.setLogger(diagLogger(logger), { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
  const resource = resourceFromAttributes({
    [ATTR_SERVICE_NAME]: options.serviceName,
    ...(options.serviceInstance === undefined ? {} : { [ATTR_SERVICE_INSTANCE_ID]: options.serviceInstance }),
  });
  const exporter = new OTLPTraceExporter({ url });
  const provider = new NodeTracerProvider({
    resource,
    spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: options.scheduledDelayMillis ?? 500 })],
  });
  ownsProvider = trace.setGlobalTracerProvider(provider);
  if (!ownsProvider) {
    void provider.shutdown();
    unregister();
    throw taken('tracer provider');
  }
  return {
    exporting: true,
    url,
    // A collector that is down must not turn a clean service shutdown into a crash: the lost spans are reported.
    shutdown: async () => {
      const limit = options.shutdownTimeoutMillis ?? 3000;
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`not delivered within ${limit} ms`)), limit);
        timer.unref();
      });
      try {
        await Promise.race([provider.shutdown(), timedOut]);
      } catch (error) {
        logger.error(
          `tracing: spans could not be flushed to ${url} at shutdown: ${error instanceof Error ? error.message : String(error)}`,
        );
      } finally {
        clearTimeout(timer);
        unregister();
      }
    },
  };
}

function tracesUrl(endpoint: string | undefined): string | undefined {
  const source = endpoint !== undefined ? 'endpoint' : 'OTEL_EXPORTER_OTLP_ENDPOINT';
  const base = (endpoint ?? process.env.OTEL_EXPORTER_OTLP_ENDPOINT)?.trim();
  if (base === undefined || base === '') return undefined;
  let parsed: URL;
  try {
    parsed = new URL(base);
  } catch {
    throw new Error(`startTracing: ${source} is not a URL: "${base}" (expected e.g. http://127.0.0.1:4318)`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw new Error(`startTracing: ${source} must be an http(s) URL, got "${base}"`);
  const trimmed = base.replace(/\/+$/, '');
  return trimmed.endsWith('/v1/traces') ? trimmed : `${trimmed}/v1/traces`;
}

/**
 * The SDK reports export failures through `diag`, which is silent unless a logger is set. A collector that is
 * down fails every batch, so a message repeated within a minute is counted rather than written again.
 */
function diagLogger(logger: Pick<Logger, 'warn' | 'error'>): DiagLogger {
  const lastWritten = new Map<string, { at: number; suppressed: number }>();
  const write = (level: 'warn' | 'error', message: string, args: unknown[]): void => {
    const text = [
      readable(message),
      ...args.map((arg) => (arg instanceof Error ? arg.message : typeof arg === 'string' ? arg : JSON.stringify(arg))),
    ].join(' ');
    const now = Date.now();
    const seen = lastWritten.get(text);
    if (seen !== undefined && now - seen.at < 60_000) {
      seen.suppressed += 1;
      return;
    }
    lastWritten.set(text, { at: now, suppressed: 0 });
    if (lastWritten.size > 100) lastWritten.clear();
    // The export runs in whatever context armed the batch timer; the failure is not part of that span's trace.
    context.with(ROOT_CONTEXT, () =>
      logger[level](`tracing: ${text}`, seen?.suppressed ? { repeatedSinceLastReport: seen.suppressed } : undefined),
    );
  };
  const ignore = (): void => undefined;
  return {
    error: (m, ...a) => write('error', m, a),
    warn: (m, ...a) => write('warn', m, a),
    info: ignore,
    debug: ignore,
    verbose: ignore,
  };
}

// The SDK's error handler hands diag a JSON dump of the exception (stack and all); its message is what helps.
function readable(message: string): string {
  if (!message.startsWith('{')) return message;
  try {
    const parsed = JSON.parse(message) as { message?: unknown; code?: unknown };
    return typeof parsed.message === 'string'
      ? `${parsed.message}${typeof parsed.code === 'string' && !parsed.message.includes(parsed.code) ? ` (${parsed.code})` : ''}`
      : message;
  } catch {
    return message;
  }
}
