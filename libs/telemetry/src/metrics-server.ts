import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface MetricsSource {
  render(): Promise<string>;
  readonly contentType: string;
}

export interface MetricsServerOptions {
  /** 0 picks a free port (see `url` on the result). */
  readonly port: number;
  readonly host?: string;
  readonly metrics: MetricsSource;
  /** Guards GET /metrics (not /healthz, which liveness probes call bare); false answers 401. */
  readonly authenticate?: (request: IncomingMessage) => boolean | Promise<boolean>;
}

export interface MetricsServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * GET /metrics and GET /healthz on a plain node:http server, for services that have no HTTP API of their own
 * (orchestrator, governance, workers). Services with an API mount `metrics.render()` on their own router.
 */
export async function serveMetrics(options: MetricsServerOptions): Promise<MetricsServer> {
  if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535)
    throw new Error(`serveMetrics: port must be an integer from 0 to 65535, got ${String(options.port)}`);
  const host = options.host ?? '127.0.0.1';
  const server = createServer((request, response) => {
    handle(options, request, response).catch((error: unknown) => {
      send(
        response,
        500,
        'text/plain; charset=utf-8',
        `metrics could not be rendered: ${error instanceof Error ? error.message : String(error)}\n`,
      );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) =>
      reject(new Error(`serveMetrics: cannot listen on ${host}:${options.port}: ${error.message}`)),
    );
    server.listen(options.port, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

async function handle(
  options: MetricsServerOptions,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const path = new URL(request.url ?? '/', 'http://localhost').pathname;
  if (path !== '/metrics' && path !== '/healthz')
    return send(response, 404, 'text/plain; charset=utf-8', 'not found: try GET /metrics or GET /healthz\n');
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.setHeader('allow', 'GET, HEAD');
    return send(response, 405, 'text/plain; charset=utf-8', `${request.method ?? ''} not allowed on ${path}\n`);
  }
  if (path === '/healthz') return send(response, 200, 'application/json', '{"status":"ok"}\n');
  if (options.authenticate !== undefined && !(await options.authenticate(request)))
    return send(response, 401, 'text/plain; charset=utf-8', 'unauthorized\n');
  send(response, 200, options.metrics.contentType, await options.metrics.render());
}

function send(response: ServerResponse, status: number, contentType: string, body: string): void {
  if (response.headersSent) return void response.end();
  response.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  response.end(response.req.method === 'HEAD' ? undefined : body);
}
