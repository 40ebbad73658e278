export { startOtlpFileCollector } from './otlp-file-collector.ts';
export type { OtlpFileCollector, OtlpFileCollectorOptions } from './otlp-file-collector.ts';
export type { CollectedSpan } from './otlp-json.ts';
export { listTraces, readTraceFile, renderTrace } from './trace-file.ts';
