import { Webhook } from 'standardwebhooks';
import type { WebhookEndpoint } from './webhook-config.ts';

/** What one attempt got: a 2xx is delivered; anything else is tried again later. */
export interface AttemptResult {
  readonly ok: boolean;
  readonly status: number | null;
  readonly error: string | null;
}

export interface SendRequest {
  readonly webhookId: string;
  readonly body: string;
  readonly now: Date;
  readonly timeoutMs: number;
  /** Aborts the attempt when the notifier closes. */
  readonly signal: AbortSignal;
}

const MAX_ERROR_CHARS = 300;

/**
 * Signs and POSTs webhooks to one endpoint, Standard Webhooks style: `webhook-id`, `webhook-timestamp` (of this
 * attempt, in seconds) and `webhook-signature` (`v1,<base64 HMAC-SHA256 of id.timestamp.body>`). The secret lives
 * in the signer only. Redirects are not followed: a receiver that moved must be configured again.
 */
export class WebhookSender {
  readonly #url: string;
  readonly #signer: Webhook;

  constructor(endpoint: WebhookEndpoint) {
    this.#url = endpoint.url;
    this.#signer = new Webhook(endpoint.secret);
  }

  async send(request: SendRequest): Promise<AttemptResult> {
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'Orchestron-Webhooks/1',
      'webhook-id': request.webhookId,
      'webhook-timestamp': String(Math.floor(request.now.getTime() / 1000)),
      'webhook-signature': this.#signer.sign(request.webhookId, request.now, request.body),
    };
    try {
      const response = await fetch(this.#url, {
        method: 'POST',
        headers,
        body: request.body,
        redirect: 'manual',
        signal: AbortSignal.any([request.signal, AbortSignal.timeout(request.timeoutMs)]),
      });
      const text = await response.text().catch(() => '');
      if (response.status >= 200 && response.status < 300) return { ok: true, status: response.status, error: null };
      return { ok: false, status: response.status, error: clip(`HTTP ${response.status}${text ? `: ${text}` : ''}`) };
    } catch (error) {
      return { ok: false, status: null, error: clip(describeFailure(error, request.timeoutMs)) };
    }
  }
}

function describeFailure(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && error.name === 'TimeoutError') return `no answer within ${timeoutMs} ms`;
  const cause = error instanceof Error ? (error.cause as { code?: string; message?: string } | undefined) : undefined;
  const base = error instanceof Error ? error.message : String(error);
  return cause?.code ? `${base}: ${cause.code}` : cause?.message ? `${base}: ${cause.message}` : base;
}

function clip(text: string): string {
  return text.length <= MAX_ERROR_CHARS ? text : `${text.slice(0, MAX_ERROR_CHARS)}…`;
}
