import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { trace, type ProxyTracerProvider } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { currentTraceId, currentTraceparent, injectHeaders, RUN_ID_ATTRIBUTE, withSpan } from './spans.ts';
import { spanIdForRun, traceIdForRun, traceparentForRun } from './trace-ids.ts';
import { startTracing } from './tracing.ts';
import { readTraceFile, startOtlpFileCollector, type CollectedSpan, type OtlpFileCollector } from './testing/index.ts';

let dir: string;
let collector: OtlpFileCollector;
let runSeq = 0;
const newRunId = (): string => `tracing-spec-${process.pid}-${Date.now()}-${++runSeq}`;
const quiet = { warn: () => undefined, error: () => undefined };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'orchestron-telemetry-'));
  collector = await startOtlpFileCollector({ port: 0, out: join(dir, 'traces.ndjson') });
});

afterAll(async () => {
  await collector.close();
  await rm(dir, { recursive: true, force: true });
});

async function inTrace(traceId: string): Promise<CollectedSpan[]> {
  return (await readTraceFile(collector.out)).filter((span) => span.traceId === traceId);
}

function one(spans: CollectedSpan[], name: string): CollectedSpan {
  const found = spans.filter((span) => span.name === name);
  expect(found).toHaveLength(1);
  return found[0] as CollectedSpan;
}

describe('one run, one trace, across two services', () => {
  it('puts a header-parented span and a header-less run span into the trace the other service started', async () => {
    const runId = newRunId();

    const api = startTracing({ serviceName: 'api', serviceInstance: 'api-1', endpoint: collector.url, logger: quiet });
    let outgoing: Record<string, string> = {};
    let apiSpanId = '';
    await withSpan('api.start-run', { runId, kind: 'server' }, (span) => {
      outgoing = injectHeaders();
      apiSpanId = span.spanContext().spanId;
    });
    await api.shutdown();

    const worker = startTracing({
      serviceName: 'worker',
      serviceInstance: 'worker-7',
      endpoint: collector.url,
      logger: quiet,
    });
    await withSpan('worker.handle', { headers: outgoing, kind: 'consumer' }, () => undefined);
    await withSpan('timer.fire', { runId }, () => undefined);
    await worker.shutdown();

    const spans = await inTrace(traceIdForRun(runId));
    expect(spans.map((span) => span.name).sort()).toEqual(['api.start-run', 'timer.fire', 'worker.handle']);
    const started = one(spans, 'api.start-run');
    const handled = one(spans, 'worker.handle');
    const fired = one(spans, 'timer.fire');
    expect(outgoing.traceparent).toBe(`00-${traceIdForRun(runId)}-${apiSpanId}-01`);
    expect(started).toMatchObject({
      service: 'api',
      instance: 'api-1',
      kind: 'server',
      spanId: apiSpanId,
      parentSpanId: spanIdForRun(runId),
    });
    expect(started.attributes[RUN_ID_ATTRIBUTE]).toBe(runId);
    expect(handled).toMatchObject({
      service: 'worker',
      instance: 'worker-7',
      kind: 'consumer',
      parentSpanId: apiSpanId,
    });
    expect(fired).toMatchObject({ service: 'worker', parentSpanId: spanIdForRun(runId) });
  });
});

describe('withSpan', () => {
  let tracing: ReturnType<typeof startTracing>;
  beforeEach(() => {
    tracing = startTracing({ serviceName: 'spec', endpoint: collector.url, logger: quiet });
  });
  afterEach(async () => {
    await tracing.shutdown();
  });

  it("returns fn's result and makes the span active inside it", async () => {
    const runId = newRunId();
    const seen = await withSpan('outer', { runId }, () => ({
      traceId: currentTraceId(),
      traceparent: currentTraceparent(),
    }));
    expect(seen.traceId).toBe(traceIdForRun(runId));
    expect(seen.traceparent).toMatch(new RegExp(`^00-${traceIdForRun(runId)}-[0-9a-f]{16}-01$`));
    expect(currentTraceparent()).toBeUndefined();
  });

  it('nests a span started inside another under it', async () => {
    const runId = newRunId();
    let outerId = '';
    await withSpan('outer', { runId }, async (outer) => {
      outerId = outer.spanContext().spanId;
      await withSpan('inner', {}, () => undefined);
      await withSpan('inner-with-run', { runId }, () => undefined);
    });
    await tracing.shutdown();
    const spans = await inTrace(traceIdForRun(runId));
    expect(one(spans, 'inner').parentSpanId).toBe(outerId);
    expect(one(spans, 'inner-with-run').parentSpanId).toBe(outerId);
  });

  it('records a failure on the span and rethrows it', async () => {
    const runId = newRunId();
    const boom = new Error('payment gateway said no');
    await expect(withSpan('charge', { runId }, async () => Promise.reject(boom))).rejects.toBe(boom);
    await tracing.shutdown();
    const span = one(await inTrace(traceIdForRun(runId)), 'charge');
    expect(span.status).toEqual({ code: 'error', message: 'Error: payment gateway said no' });
    expect(span.events?.[0]).toMatchObject({
      name: 'exception',
      attributes: { 'exception.message': 'payment gateway said no' },
    });
  });

  it("keeps a run's span in the run's trace when the header comes from another trace, and links that context", async () => {
    const runId = newRunId();
    const foreign = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    await withSpan('api.start-run', { runId, headers: { TraceParent: foreign } }, () => undefined);
    await tracing.shutdown();
    const span = one(await inTrace(traceIdForRun(runId)), 'api.start-run');
    expect(span.parentSpanId).toBe(spanIdForRun(runId));
    expect(span.links).toEqual([{ traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331' }]);
  });

  it('parents on a header with no run id, and starts a new root with neither', async () => {
    const foreignTrace = traceIdForRun(newRunId());
    await withSpan(
      'from-header',
      { headers: { traceparent: `00-${foreignTrace}-b7ad6b7169203331-01` } },
      () => undefined,
    );
    let rootTrace = '';
    await withSpan('root', { headers: { traceparent: 'garbage' } }, (span) => {
      rootTrace = span.spanContext().traceId;
    });
    await tracing.shutdown();
    expect(one(await inTrace(foreignTrace), 'from-header').parentSpanId).toBe('b7ad6b7169203331');
    const root = one(await inTrace(rootTrace), 'root');
    expect(root.parentSpanId).toBeUndefined();
  });
});

describe('startTracing', () => {
  it('exports nothing without an endpoint, yet carries the run context to headers', async () => {
    const saved = process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
    delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
    const runId = newRunId();
    try {
      const tracing = startTracing({ serviceName: 'quiet' });
      expect(tracing.exporting).toBe(false);
      const traceparent = await withSpan('noop', { runId }, () => currentTraceparent());
      await tracing.shutdown();
      expect(traceparent).toBe(traceparentForRun(runId));
    } finally {
      if (saved !== undefined) process.env.OTEL_EXPORTER_OTLP_ENDPOINT = saved;
    }
    const lines = (await readFile(collector.out, 'utf8')).split('\n');
    expect(lines.some((line) => line.includes(traceIdForRun(runId)))).toBe(false);
  });

  it('reads the endpoint from OTEL_EXPORTER_OTLP_ENDPOINT', async () => {
    const saved = process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = `${collector.url}/`;
    try {
      const tracing = startTracing({ serviceName: 'from-env', logger: quiet });
      expect(tracing.url).toBe(`${collector.url}/v1/traces`);
      await tracing.shutdown();
    } finally {
      if (saved === undefined) delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
      else process.env.OTEL_EXPORTER_OTLP_ENDPOINT = saved;
    }
  });

  it('runs fn untraced when tracing was never started', async () => {
    await expect(withSpan('untraced', { runId: newRunId() }, () => currentTraceparent())).resolves.toBeUndefined();
  });

  it("records spans on a provider other code registered, with no context manager, and rethrows fn's errors", async () => {
    const exporter = new InMemorySpanExporter();
    expect(
      trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })),
    ).toBe(true);
    try {
      const runId = newRunId();
      await expect(withSpan('theirs', { runId }, () => 7)).resolves.toBe(7);
      await expect(withSpan('failing', { runId }, () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
      const spans = exporter.getFinishedSpans();
      expect(spans.map((span) => span.name)).toEqual(['theirs', 'failing']);
      expect(spans.every((span) => span.spanContext().traceId === traceIdForRun(runId))).toBe(true);
    } finally {
      trace.disable();
    }
    await expect(withSpan('untraced', { runId: newRunId() }, () => Promise.reject(new Error('bang')))).rejects.toThrow(
      'bang',
    );
    await expect(withSpan('untraced', { runId: '' }, () => 1)).rejects.toThrow('runId must be a non-empty string');
  });

  it('refuses a second start, a bad endpoint and a missing service name, naming the problem', async () => {
    const tracing = startTracing({ serviceName: 'first' });
    expect(() => startTracing({ serviceName: 'second' })).toThrow('already started in this process (service "first")');
    await tracing.shutdown();
    expect(() => startTracing({ serviceName: 'x', endpoint: 'localhost:4318' })).toThrow(
      'endpoint must be an http(s) URL',
    );
    expect(() => startTracing({ serviceName: 'x', endpoint: 'not a url' })).toThrow('endpoint is not a URL');
    expect(() => startTracing({ serviceName: ' ' })).toThrow('serviceName must be a non-empty string');
  });

  it('refuses to start when other code already registered a tracer provider, leaving it in place', async () => {
    const other = new BasicTracerProvider();
    expect(trace.setGlobalTracerProvider(other)).toBe(true);
    try {
      expect(() => startTracing({ serviceName: 'late', endpoint: collector.url, logger: quiet })).toThrow(
        'another OpenTelemetry tracer provider is already registered',
      );
      expect((trace.getTracerProvider() as ProxyTracerProvider).getDelegate()).toBe(other);
      const again = startTracing({ serviceName: 'late' });
      await again.shutdown();
    } finally {
      trace.disable();
    }
  });

  it('reports spans it could not deliver at shutdown instead of throwing', async () => {
    const errors: string[] = [];
    const tracing = startTracing({
      serviceName: 'orphan',
      endpoint: 'http://127.0.0.1:1',
      shutdownTimeoutMillis: 300,
      logger: { warn: () => undefined, error: (message) => errors.push(message) },
    });
    await withSpan('lost', {}, () => undefined);
    await expect(tracing.shutdown()).resolves.toBeUndefined();
    expect(errors.join('\n')).toContain('spans could not be flushed to http://127.0.0.1:1/v1/traces');
  });
});
