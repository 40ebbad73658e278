import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { startOtlpFileCollector, type OtlpFileCollector } from './otlp-file-collector.ts';

const TRACE = '5b8efff798038103d269b633813fc60c';

function request(spanName: string): unknown {
  return {
    resourceSpans: [
      {
        resource: {
          attributes: [
            { key: 'service.name', value: { stringValue: 'governance' } },
            { key: 'service.instance.id', value: { stringValue: 'gov-2' } },
          ],
        },
        scopeSpans: [
          {
            scope: { name: '@orchestron/telemetry' },
            spans: [
              {
                traceId: TRACE,
                spanId: 'eee19b7ec3c1b174',
                parentSpanId: 'eee19b7ec3c1b173',
                name: spanName,
                kind: 5,
                startTimeUnixNano: '1544712660000000000',
                endTimeUnixNano: '1544712661500000000',
                attributes: [
                  { key: 'orchestron.run.id', value: { stringValue: 'r-1' } },
                  { key: 'attempt', value: { intValue: '2' } },
                  { key: 'retryable', value: { boolValue: false } },
                  { key: 'policies', value: { arrayValue: { values: [{ stringValue: 'a' }, { stringValue: 'b' }] } } },
                ],
                status: { code: 2, message: 'denied' },
              },
            ],
          },
        ],
      },
    ],
  };
}

describe('the OTLP file collector', () => {
  let dir: string;
  let collector: OtlpFileCollector;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'orchestron-collector-'));
    collector = await startOtlpFileCollector({ port: 0, out: join(dir, 'nested', 'traces.ndjson') });
  });
  afterEach(async () => {
    await collector.close();
    await rm(dir, { recursive: true, force: true });
  });

  const post = (
    body: string | Uint8Array,
    headers: Record<string, string> = { 'content-type': 'application/json' },
  ): Promise<Response> => fetch(`${collector.url}/v1/traces`, { method: 'POST', headers, body });

  it('writes one flat NDJSON line per span, with the resource service name and instance', async () => {
    const response = await post(JSON.stringify(request('governance.check')));
    expect(response.status).toBe(200);
    const lines = (await readFile(collector.out, 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] as string)).toEqual({
      traceId: TRACE,
      spanId: 'eee19b7ec3c1b174',
      parentSpanId: 'eee19b7ec3c1b173',
      name: 'governance.check',
      kind: 'consumer',
      service: 'governance',
      instance: 'gov-2',
      startTime: '2018-12-13T14:51:00.000Z',
      endTime: '2018-12-13T14:51:01.500Z',
      startTimeUnixNano: '1544712660000000000',
      durationMs: 1500,
      status: { code: 'error', message: 'denied' },
      attributes: { 'orchestron.run.id': 'r-1', attempt: 2, retryable: false, policies: ['a', 'b'] },
    });
  });

  it('accepts a gzip-encoded body', async () => {
    const response = await post(gzipSync(JSON.stringify(request('zipped'))), {
      'content-type': 'application/json',
      'content-encoding': 'gzip',
    });
    expect(response.status).toBe(200);
    expect(collector.spans().map((span) => span.name)).toEqual(['zipped']);
  });

  it('refuses protobuf with 415 and says what to send instead', async () => {
    const response = await post(new Uint8Array([10, 0]), { 'content-type': 'application/x-protobuf' });
    expect(response.status).toBe(415);
    expect(((await response.json()) as { message: string }).message).toContain(
      'takes OTLP/HTTP JSON (application/json)',
    );
  });

  it('answers 400 naming the bad field, and writes nothing', async () => {
    const bad = request('bad') as { resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: string }] }] }] };
    bad.resourceSpans[0].scopeSpans[0].spans[0].traceId = 'xyz';
    const response = await post(JSON.stringify(bad));
    expect(response.status).toBe(400);
    expect(((await response.json()) as { message: string }).message).toBe(
      'resourceSpans[0].scopeSpans[0].spans[0].traceId must be 32 hex digits, got "xyz"',
    );
    expect((await post('{not json')).status).toBe(400);
    expect(collector.spans()).toEqual([]);
  });

  it('answers 404 off /v1/traces and 405 for other methods on it', async () => {
    expect((await fetch(`${collector.url}/v1/metrics`, { method: 'POST' })).status).toBe(404);
    expect((await fetch(`${collector.url}/v1/traces`)).status).toBe(405);
    expect((await fetch(`${collector.url}/healthz`)).status).toBe(200);
  });

  it('lets a test wait for spans, and says what did arrive when they do not', async () => {
    const waiting = collector.waitForSpans((spans) => spans.some((span) => span.name === 'late'));
    await post(JSON.stringify(request('early')));
    await post(JSON.stringify(request('late')));
    expect((await waiting).map((span) => span.name)).toEqual(['early', 'late']);
    await expect(collector.waitForSpans((spans) => spans.length > 5, 200)).rejects.toThrow(
      'did not arrive within 200 ms (2 spans received: governance/early, governance/late)',
    );
  });
});
