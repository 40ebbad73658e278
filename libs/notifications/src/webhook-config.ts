import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { quoteForMessage, TENANT_PATTERN, TENANT_RULE } from '@orchestron/definitions';
import { NOTIFICATION_TYPES } from './notification-types.ts';
import type { NotificationType } from './notification-types.ts';

/** One receiver of webhooks. `secret` stays in memory: it is never logged, listed or recorded. */
export interface WebhookEndpoint {
  /** Names the endpoint in delivery records and logs (its URL may hold a token of its own, so it is never shown). */
  readonly id: string;
  readonly url: string;
  /** `whsec_` and the base64 of 24 to 64 random bytes, as Standard Webhooks has it. */
  readonly secret: string;
  /** Only these notifications; null: all of them. */
  readonly events: readonly NotificationType[] | null;
  /** Only this tenant's runs; null: every tenant's. */
  readonly tenant: string | null;
}

/** A refused webhook configuration; `field` names the bad part, e.g. `ORCHESTRON_WEBHOOKS[1].events[0]`. */
export class WebhookConfigError extends Error {
  override readonly name = 'WebhookConfigError';
  readonly field: string;

  constructor(field: string, problem: string) {
    super(`${field} ${problem}`);
    this.field = field;
  }
}

export const MAX_WEBHOOK_ENDPOINTS = 50;
const KEYS = ['id', 'url', 'secret', 'events', 'tenant'];
const ID = /^[a-z0-9][a-z0-9_-]{0,39}$/;
const TENANT = new RegExp(TENANT_PATTERN);
const SECRET_PREFIX = 'whsec_';
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * The endpoints of ORCHESTRON_WEBHOOKS (JSON) or of the file ORCHESTRON_WEBHOOKS_FILE names; none when neither is
 * set. Throws WebhookConfigError naming the bad field, so a server refuses to start on a config it cannot honour.
 */
export function webhooksFromEnv(env: Readonly<Record<string, string | undefined>>): WebhookEndpoint[] {
  const inline = env.ORCHESTRON_WEBHOOKS;
  const file = env.ORCHESTRON_WEBHOOKS_FILE;
  if (inline && file)
    throw new WebhookConfigError('ORCHESTRON_WEBHOOKS_FILE', 'is set as well as ORCHESTRON_WEBHOOKS: set one of them');
  if (inline) return parseWebhooks(inline, 'ORCHESTRON_WEBHOOKS');
  if (!file) return [];
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new WebhookConfigError('ORCHESTRON_WEBHOOKS_FILE', `cannot be read: ${reason}`);
  }
  return parseWebhooks(text, file);
}

/** Parses a JSON list of `{ url, secret, events?, tenant?, id? }`; `source` prefixes the field names in errors. */
export function parseWebhooks(text: string, source: string): WebhookEndpoint[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new WebhookConfigError(source, `is not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  if (!Array.isArray(parsed))
    throw new WebhookConfigError(source, 'must be a JSON list of { url, secret, events?, tenant? }');
  if (parsed.length > MAX_WEBHOOK_ENDPOINTS)
    throw new WebhookConfigError(
      source,
      `has ${parsed.length} endpoints; at most ${MAX_WEBHOOK_ENDPOINTS} are allowed`,
    );
  const endpoints = parsed.map((entry, index) => endpointOf(entry, `${source}[${index}]`));
  const seen = new Set<string>();
  endpoints.forEach((endpoint, index) => {
    if (seen.has(endpoint.id))
      throw new WebhookConfigError(
        `${source}[${index}].id`,
        `${quoteForMessage(endpoint.id)} is taken by an earlier endpoint (two endpoints of one URL need an "id" each)`,
      );
    seen.add(endpoint.id);
  });
  return endpoints;
}

function endpointOf(entry: unknown, at: string): WebhookEndpoint {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry))
    throw new WebhookConfigError(at, 'must be an object { url, secret, events?, tenant? }');
  const fields = entry as Record<string, unknown>;
  const unknown = Object.keys(fields).find((key) => !KEYS.includes(key));
  if (unknown !== undefined)
    throw new WebhookConfigError(`${at}.${unknown}`, `is not a webhook setting (known: ${KEYS.join(', ')})`);
  const url = urlOf(fields.url, `${at}.url`);
  return {
    id: idOf(fields.id, `${at}.id`, url),
    url,
    secret: secretOf(fields.secret, `${at}.secret`),
    events: eventsOf(fields.events, `${at}.events`),
    tenant: tenantOf(fields.tenant, `${at}.tenant`),
  };
}

function urlOf(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0)
    throw new WebhookConfigError(field, 'is required: the http(s) URL to POST notifications to');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new WebhookConfigError(field, 'is not a URL (write e.g. https://hooks.example.com/orchestron)');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new WebhookConfigError(field, `must be http or https, not ${quoteForMessage(url.protocol)}`);
  return value;
}

function idOf(value: unknown, field: string, url: string): string {
  if (value === undefined) return `wh-${createHash('sha256').update(url).digest('hex').slice(0, 10)}`;
  if (typeof value !== 'string' || !ID.test(value))
    throw new WebhookConfigError(
      field,
      'must be 1 to 40 characters of a-z, 0-9, _ and -, starting with a letter or digit',
    );
  return value;
}

/** The secret's own characters are never quoted in an error: the message may reach a log. */
function secretOf(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0)
    throw new WebhookConfigError(field, 'is required: "whsec_" and the base64 of 24 to 64 random bytes');
  if (!value.startsWith(SECRET_PREFIX))
    throw new WebhookConfigError(field, 'must start with "whsec_" (the Standard Webhooks secret format)');
  const encoded = value.slice(SECRET_PREFIX.length);
  if (!BASE64.test(encoded)) throw new WebhookConfigError(field, 'must be "whsec_" and base64 (A-Z, a-z, 0-9, +, /)');
  const bytes = Buffer.from(encoded, 'base64').length;
  if (bytes < 24 || bytes > 64)
    throw new WebhookConfigError(
      field,
      `must hold 24 to 64 bytes after "whsec_", not ${bytes} (e.g. openssl rand -base64 32)`,
    );
  return value;
}

function eventsOf(value: unknown, field: string): readonly NotificationType[] | null {
  if (value === undefined) return null;
  if (!Array.isArray(value) || value.length === 0)
    throw new WebhookConfigError(
      field,
      `must be a non-empty list of ${NOTIFICATION_TYPES.join(', ')} (leave it out for all)`,
    );
  value.forEach((type, index) => {
    if (!NOTIFICATION_TYPES.includes(type as NotificationType))
      throw new WebhookConfigError(
        `${field}[${index}]`,
        `${quoteForMessage(String(type))} is not a notification type (known: ${NOTIFICATION_TYPES.join(', ')})`,
      );
  });
  return [...new Set(value as NotificationType[])];
}

function tenantOf(value: unknown, field: string): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || !TENANT.test(value))
    throw new WebhookConfigError(field, `must be a tenant: ${TENANT_RULE}`);
  return value;
}
