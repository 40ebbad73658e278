import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseWebhooks, WebhookConfigError, webhooksFromEnv } from './webhook-config.ts';

const SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
const ok = { url: 'https://hooks.example.com/o', secret: SECRET };

function refusal(value: unknown): { field: string; message: string } {
  try {
    parseWebhooks(JSON.stringify(value), 'ORCHESTRON_WEBHOOKS');
  } catch (error) {
    if (error instanceof WebhookConfigError) return { field: error.field, message: error.message };
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('webhook configuration', () => {
  it('reads endpoints with their defaults: every event, every tenant, an id derived from the URL', () => {
    const [endpoint] = parseWebhooks(JSON.stringify([ok]), 'ORCHESTRON_WEBHOOKS');
    expect(endpoint).toEqual({ ...ok, id: expect.stringMatching(/^wh-[0-9a-f]{10}$/), events: null, tenant: null });
    const [scoped] = parseWebhooks(
      JSON.stringify([{ ...ok, id: 'pager', events: ['run.failed', 'run.failed'], tenant: 'acme' }]),
      'x',
    );
    expect(scoped).toMatchObject({ id: 'pager', events: ['run.failed'], tenant: 'acme' });
  });

  it.each([
    ['not a list', { url: 'x' }, 'ORCHESTRON_WEBHOOKS'],
    ['a missing url', [{ secret: SECRET }], 'ORCHESTRON_WEBHOOKS[0].url'],
    ['a url of another scheme', [{ ...ok, url: 'ftp://h/x' }], 'ORCHESTRON_WEBHOOKS[0].url'],
    ['a missing secret', [ok, { url: ok.url, id: 'b' }], 'ORCHESTRON_WEBHOOKS[1].secret'],
    ['a short secret', [{ ...ok, secret: 'whsec_c2hvcnQ=' }], 'ORCHESTRON_WEBHOOKS[0].secret'],
    ['an unknown event', [{ ...ok, events: ['run.failed', 'run.exploded'] }], 'ORCHESTRON_WEBHOOKS[0].events[1]'],
    ['an empty event list', [{ ...ok, events: [] }], 'ORCHESTRON_WEBHOOKS[0].events'],
    ['a bad tenant', [{ ...ok, tenant: 'Acme!' }], 'ORCHESTRON_WEBHOOKS[0].tenant'],
    ['an unknown key', [{ ...ok, secrte: SECRET }], 'ORCHESTRON_WEBHOOKS[0].secrte'],
    ['a duplicate endpoint', [ok, ok], 'ORCHESTRON_WEBHOOKS[1].id'],
  ])('refuses %s, naming the field', (_case, value, field) => {
    expect(refusal(value).field).toBe(field);
    expect(refusal(value).message.startsWith(field)).toBe(true);
  });

  it('never quotes a secret in its errors', () => {
    const secret = 'not-a-standard-secret-but-private';
    expect(refusal([{ ...ok, secret }]).message).not.toContain(secret);
    const short = `whsec_${Buffer.from('private-bytes').toString('base64')}`;
    expect(refusal([{ ...ok, secret: short }]).message).not.toContain(short.slice(6));
  });

  it('reads ORCHESTRON_WEBHOOKS or the file ORCHESTRON_WEBHOOKS_FILE names, not both', () => {
    expect(webhooksFromEnv({})).toEqual([]);
    const file = join(mkdtempSync(join(tmpdir(), 'webhooks-')), 'hooks.json');
    writeFileSync(file, JSON.stringify([{ ...ok, tenant: 'nope!' }]));
    expect(() => webhooksFromEnv({ ORCHESTRON_WEBHOOKS_FILE: file })).toThrow(`${file}[0].tenant must be a tenant`);
    expect(() => webhooksFromEnv({ ORCHESTRON_WEBHOOKS_FILE: join(file, 'missing') })).toThrow(
      /^ORCHESTRON_WEBHOOKS_FILE cannot be read/,
    );
    expect(() => webhooksFromEnv({ ORCHESTRON_WEBHOOKS: '[', ORCHESTRON_WEBHOOKS_FILE: file })).toThrow(
      /ORCHESTRON_WEBHOOKS_FILE is set as well/,
    );
    expect(() => webhooksFromEnv({ ORCHESTRON_WEBHOOKS: '[' })).toThrow(/^ORCHESTRON_WEBHOOKS is not JSON/);
  });
});
