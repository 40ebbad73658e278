import { appendFile, mkdir } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, resolve } from 'node:path';
import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import { OtlpRequestError, spansFromOtlpJson, type CollectedSpan } from './otlp-json.ts';

export interface OtlpFileCollectorOptions {
  /** The file spans are appended to, one JSON object per line; its directory is created. */
  readonly out: string;
  /** 4318 (the OTLP/HTTP port) unless given; 0 picks a free one. */
  readonly port?: number;
  readonly host?: string;
  /** Called with each accepted batch, after it is written. */
  readonly onSpans?: (spans: readonly CollectedSpan[]) => void;
}

export interface OtlpFileCollector {
  /** The base URL to give exporters (`OTEL_EXPORTER_OTLP_ENDPOINT`); they post to `${url}/v1/traces`. */
  readonly url: string;
  readonly port: number;
  readonly out: string;
  /** Spans received since start, oldest first (the last 10,000 only; the file has them all). */
  spans(): CollectedSpan[];
  /** Resolves with the spans received so far once `until` holds for them; rejects after `timeoutMs`. */
  waitForSpans(until: (spans: readonly CollectedSpan[]) => boolean, timeoutMs?: number): Promise<CollectedSpan[]>;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 32 * 1024 * 1024;
const KEPT_IN_MEMORY = 10_000;
const gunzipAsync = promisify(gunzip);

/**
 * A minimal OTLP/HTTP trace receiver: POST /v1/traces in JSON (optionally gzip-encoded), each span appended to
 * `out` as one NDJSON line before the request is answered, so an exporter's flush returning means the spans are
 * on disk. Protobuf bodies are refused with 415 and a message saying what to send instead.
 */
export async function startOtlpFileCollector(options: OtlpFileCollectorOptions): Promise<OtlpFileCollector> {
  const out = resolve(options.out);
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 4318;
  await mkdir(dirname(out), { recursive: true });
  const kept: CollectedSpan[] = [];
  const waiters = new Set<() => void>();
  let writes: Promise<void> = Promise.resolve();

  const accept = async (spans: CollectedSpan[]): Promise<void> => {
    if (spans.length === 0) return;
    const written = writes.then(() => appendFile(out, spans.map((span) => `${JSON.stringify(span)}\n`).join('')));
    writes = written.catch(() => undefined);
    await written;
    kept.push(...spans);
    if (kept.length > KEPT_IN_MEMORY) kept.splice(0, kept.length - KEPT_IN_MEMORY);
    options.onSpans?.(spans);
    for (const wake of waiters) wake();
  };

  const server = createServer((request, response) => {
    handle(request, response, accept).catch((error: unknown) => {
      const status = error instanceof OtlpRequestError ? 400 : 500;
      reply(response, status, {
        code: status === 400 ? 3 : 13,
        message: error instanceof Error ? error.message : String(error),
      });
    });
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', (error) =>
      reject(new Error(`otlp-file-collector: cannot listen on ${host}:${port}: ${error.message}`)),
    );
    server.listen(port, host, () => resolveListen());
  });
  const bound = (server.address() as AddressInfo).port;

  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}`,
    port: bound,
    out,
    spans: () => [...kept],
    waitForSpans: (until, timeoutMs = 10_000) =>
      new Promise((resolveWait, reject) => {
        const check = (): boolean => {
          if (!until(kept)) return false;
          cleanup();
          resolveWait([...kept]);
          return true;
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(
            new Error(
              `otlp-file-collector: the awaited spans did not arrive within ${timeoutMs} ms (${kept.length} spans received: ${kept.map((s) => `${s.service}/${s.name}`).join(', ')})`,
            ),
          );
        }, timeoutMs);
        const cleanup = (): void => {
          clearTimeout(timer);
          waiters.delete(wake);
        };
        const wake = (): void => void check();
        if (!check()) waiters.add(wake);
      }),
    close: async () => {
      await new Promise<void>((resolveClose, reject) => {
        server.close((error) => (error ? reject(error) : resolveClose()));
        server.closeAllConnections();
      });
      await writes;
    },
  };
}

async function handle(
  request: IncomingMessage,
  response: ServerResponse,
  accept: (spans: CollectedSpan[]) => Promise<void>,
): Promise<void> {
  const path = new URL(request.url ?? '/', 'http://localhost').pathname;
  if (request.method === 'GET' && path === '/healthz') return reply(response, 200, { status: 'ok' });
  if (path !== '/v1/traces')
    return reply(response, 404, {
      code: 5,
      message: `not found: ${path} (this collector takes traces only, at POST /v1/traces)`,
    });
  if (request.method !== 'POST')
    return reply(response, 405, { code: 12, message: `${request.method ?? ''} not allowed: POST /v1/traces` });
  const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json') {
    return reply(response, 415, {
      code: 3,
      message: `content-type "${type ?? ''}" is not supported: this collector takes OTLP/HTTP JSON (application/json), which @opentelemetry/exporter-trace-otlp-http sends; the -proto exporter's protobuf is not decoded`,
    });
  }
  const body = await readBody(request);
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw new OtlpRequestError(`the body is not JSON: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
  await accept(spansFromOtlpJson(parsed));
  reply(response, 200, { partialSuccess: {} });
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new OtlpRequestError(`the body is larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  const raw = Buffer.concat(chunks);
  const encoding = (request.headers['content-encoding'] ?? 'identity').toLowerCase();
  if (encoding === 'identity') return raw;
  if (encoding === 'gzip')
    return gunzipAsync(raw, { maxOutputLength: MAX_BODY_BYTES }).catch((error: Error) =>
      Promise.reject(new OtlpRequestError(`the gzip body does not decompress: ${error.message}`)),
    );
  throw new OtlpRequestError(`content-encoding "${encoding}" is not supported (identity or gzip)`);
}

function reply(response: ServerResponse, status: number, body: unknown): void {
  if (response.headersSent) return void response.end();
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}
