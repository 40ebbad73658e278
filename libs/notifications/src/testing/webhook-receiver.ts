import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

/** One request the receiver got, and whether its Standard Webhooks signature verified with the secret. */
export interface ReceivedWebhook {
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly verified: boolean;
  readonly payload: unknown;
  readonly at: number;
}

export interface ReceiverOptions {
  /** The HTTP status to answer the nth request (0-based) with, or 'hang' to never answer. Default 204. */
  readonly answer?: (n: number) => number | 'hang';
  /** Default 0: any free port. */
  readonly port?: number;
}

export interface WebhookReceiver {
  readonly url: string;
  readonly port: number;
  /** Every request, in arrival order, whatever it was answered. */
  readonly received: readonly ReceivedWebhook[];
  /** Resolves once `count` requests came; rejects after `timeoutMs` saying how many did. */
  waitFor(count: number, timeoutMs?: number): Promise<readonly ReceivedWebhook[]>;
  close(): Promise<void>;
}

/** A real HTTP receiver on 127.0.0.1 that verifies signatures with the `standardwebhooks` package's own `verify`. */
export async function startWebhookReceiver(secret: string, options: ReceiverOptions = {}): Promise<WebhookReceiver> {
  const verifier = new Webhook(secret);
  const received: ReceivedWebhook[] = [];
  const hanging = new Set<ServerResponse>();
  const waiters = new Set<() => void>();
  const server = createServer((request, response) => {
    void bodyOf(request).then((body) => {
      const headers = Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k, String(v)]));
      received.push({ headers, body, ...verify(verifier, body, headers), at: Date.now() });
      const answer = options.answer?.(received.length - 1) ?? 204;
      for (const wake of waiters) wake();
      if (answer === 'hang') hanging.add(response);
      else response.writeHead(answer).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    port,
    received,
    async waitFor(count, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (received.length < count) {
        const left = deadline - Date.now();
        if (left <= 0)
          throw new Error(`the receiver got ${received.length} webhooks, not ${count}, in ${timeoutMs} ms`);
        await new Promise<void>((wake) => {
          const done = (): void => {
            clearTimeout(timer);
            waiters.delete(done);
            wake();
          };
          const timer = setTimeout(done, left);
          waiters.add(done);
        });
      }
      return received.slice(0, count);
    },
    async close() {
      for (const response of hanging) response.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function verify(
  verifier: Webhook,
  body: string,
  headers: Record<string, string>,
): { verified: boolean; payload: unknown } {
  try {
    return { verified: true, payload: verifier.verify(body, headers) };
  } catch {
    return { verified: false, payload: null };
  }
}

async function bodyOf(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
