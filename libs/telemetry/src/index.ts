export { startTracing } from './tracing.ts';
export type { Tracing, TracingOptions } from './tracing.ts';
export {
  currentSpanId,
  currentTraceId,
  currentTraceparent,
  injectHeaders,
  RUN_ID_ATTRIBUTE,
  withSpan,
} from './spans.ts';
export type { CarrierHeaders, SpanKindName, WithSpanOptions } from './spans.ts';
export { spanIdForKey, spanIdForRun, traceIdForRun, traceparentForRun } from './trace-ids.ts';
export { BREAKER_STATE_VALUE, createMetrics, STEP_DURATION_BUCKETS } from './metrics.ts';
export type { BreakerStateName, Metrics, MetricsOptions } from './metrics.ts';
export { serveMetrics } from './metrics-server.ts';
export type { MetricsServer, MetricsServerOptions, MetricsSource } from './metrics-server.ts';
export { createLogger, isSecretKey, LOG_LEVEL_ENV, redactSecrets, REDACTED } from './logger.ts';
export type { Logger, LoggerOptions } from './logger.ts';
export { EXIT, runServiceMain } from './service-main.ts';
export type { MainProcess, RunningService, ServiceMain } from './service-main.ts';
