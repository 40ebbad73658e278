import { describe, expect, it } from '@jest/globals';
import { createInMemoryEventStore } from '@orchestron/event-store';
import type { Principal } from '../http/auth.ts';
import { KeyRing, KEYS_STREAM } from './key-ring.ts';

const admin: Principal = { keyId: 'cfg-root', subject: 'root', tenant: 'default', role: 'admin', groups: [] };
const CONFIG = [
  { key: 'configured-key-0123456789', role: 'operator', name: 'ops', tenant: 'acme', groups: ['finance'] },
] as const;

describe('the key ring', () => {
  it('accepts a configured key as its subject, tenant, role and groups, and nothing else', async () => {
    const ring = await KeyRing.open({ config: CONFIG });
    expect(await ring.authenticate('configured-key-0123456789')).toEqual({
      keyId: 'cfg-ops',
      subject: 'ops',
      tenant: 'acme',
      role: 'operator',
      groups: ['finance'],
    });
    expect(ring.list()).toEqual([expect.objectContaining({ id: 'cfg-ops', groups: ['finance'] })]);
    expect(await ring.authenticate('configured-key-012345678')).toBeNull();
    expect(await ring.authenticate('orn_aaaaaaaaaaaa_' + 'x'.repeat(43))).toBeNull();
  });

  it('issues a key whose token works, and stores only an scrypt hash of it', async () => {
    const store = createInMemoryEventStore();
    const ring = await KeyRing.open({ config: [], store });
    const { key, token } = await ring.create(
      { role: 'producer', subject: 'alice', tenant: 'acme', expiresAt: null },
      admin,
    );
    expect(token).toMatch(/^orn_[a-z0-9]{12}_[A-Za-z0-9_-]{43}$/);
    expect(await ring.authenticate(token)).toEqual({
      keyId: key.id,
      subject: 'alice',
      tenant: 'acme',
      role: 'producer',
      groups: [],
    });
    // Remembered after the first check: the same answer without hashing again.
    expect(await ring.authenticate(token)).toMatchObject({ keyId: key.id });
    const stored = JSON.stringify(await store.readStream(KEYS_STREAM));
    expect(stored).not.toContain(token.slice('orn_'.length + 13));
    expect(stored).toContain('scrypt$16384$8$1$');
    expect(ring.list()).toEqual([expect.objectContaining({ id: key.id, source: 'api', createdBy: 'admin:root' })]);
    expect(JSON.stringify(ring.list())).not.toContain('scrypt');
    ring.close();
  });

  it("keeps an issued key's groups in its event, and reads a key created before keys had groups as holding none", async () => {
    const store = createInMemoryEventStore();
    const ring = await KeyRing.open({ config: [], store });
    const { key, token } = await ring.create(
      { role: 'operator', subject: 'ann', tenant: 'acme', groups: ['finance', 'hr'], expiresAt: null },
      admin,
    );
    expect(key.groups).toEqual(['finance', 'hr']);
    expect(await ring.authenticate(token)).toMatchObject({ subject: 'ann', groups: ['finance', 'hr'] });
    await store.append(KEYS_STREAM, [
      {
        type: 'ApiKeyCreated',
        data: { keyId: 'old000000000', role: 'operator', subject: 'old', tenant: 'acme', hash: 'x', expiresAt: null },
        metadata: { actor: 'admin:root' },
      },
    ]);
    // Another process reads both from the store, as after a restart.
    const other = await KeyRing.open({ config: [], store });
    expect(other.list().map((k) => [k.subject, k.groups])).toEqual([
      ['ann', ['finance', 'hr']],
      ['old', []],
    ]);
    ring.close();
    other.close();
  });

  it('refuses a wrong secret for a real key id, and stops hashing after ten tries a minute', async () => {
    let now = Date.parse('2026-12-04T00:00:00Z');
    const ring = await KeyRing.open({ config: [], store: createInMemoryEventStore(), now: () => now });
    const { key, token } = await ring.create(
      { role: 'producer', subject: 'alice', tenant: 'acme', expiresAt: null },
      admin,
    );
    const forged = `orn_${key.id}_${'A'.repeat(43)}`;
    for (let i = 0; i < 10; i++) expect(await ring.authenticate(forged)).toBeNull();
    // Throttled: even the right token is refused until the window passes (unless it was verified before).
    expect(await ring.authenticate(token)).toBeNull();
    now += 61_000;
    expect(await ring.authenticate(token)).toMatchObject({ keyId: key.id });
    ring.close();
  });

  it('a revoked key is refused at once, also once remembered, and by another process within its refresh', async () => {
    const store = createInMemoryEventStore();
    const ring = await KeyRing.open({ config: [], store });
    const other = await KeyRing.open({ config: [], store, refreshMs: 60_000 });
    const { key, token } = await ring.create(
      { role: 'auditor', subject: 'carol', tenant: 'default', expiresAt: null },
      admin,
    );
    await other.refresh();
    expect(await other.authenticate(token)).not.toBeNull();
    expect(await ring.revoke(key.id, admin, 'left the company')).toMatchObject({
      id: key.id,
      revokedAt: expect.any(String),
    });
    expect(await ring.authenticate(token)).toBeNull();
    await other.refresh();
    expect(await other.authenticate(token)).toBeNull();
    const revoked = (await store.readStream(KEYS_STREAM)).at(-1);
    expect(revoked).toMatchObject({
      type: 'ApiKeyRevoked',
      data: { keyId: key.id, reason: 'left the company' },
      metadata: { actor: 'admin:root', keyId: 'cfg-root' },
    });
    ring.close();
    other.close();
  });

  it('an expired key is refused', async () => {
    let now = Date.parse('2026-12-04T00:00:00Z');
    const ring = await KeyRing.open({ config: [], store: createInMemoryEventStore(), now: () => now });
    const { token } = await ring.create(
      { role: 'producer', subject: 'temp', tenant: 'default', expiresAt: '2026-12-05T00:00:00Z' },
      admin,
    );
    expect(await ring.authenticate(token)).not.toBeNull();
    now = Date.parse('2026-12-05T00:00:01Z');
    expect(await ring.authenticate(token)).toBeNull();
    ring.close();
  });

  it('says when its periodic read fails, and keeps the keys it knew', async () => {
    const store = createInMemoryEventStore();
    const errors: unknown[] = [];
    const ring = await KeyRing.open({
      config: [],
      store,
      refreshMs: 10,
      onRefreshError: (error) => errors.push(error),
    });
    const { token } = await ring.create({ role: 'producer', subject: 'alice', tenant: 'acme', expiresAt: null }, admin);
    await store.close();
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(errors.length).toBeGreaterThan(0);
    expect(await ring.authenticate(token)).toMatchObject({ subject: 'alice' });
    ring.close();
  });

  it('a configured key cannot be revoked through the API, an unknown id is named, and without a store nothing is issued', async () => {
    const ring = await KeyRing.open({ config: CONFIG });
    await expect(ring.revoke('cfg-ops', admin, null)).rejects.toMatchObject({ code: 'KEY.NOT_REVOCABLE' });
    await expect(ring.revoke('nope', admin, null)).rejects.toMatchObject({ code: 'KEY.NOT_FOUND' });
    await expect(
      ring.create({ role: 'producer', subject: 'x', tenant: 'default', expiresAt: null }, admin),
    ).rejects.toMatchObject({ code: 'KEY.STORE_MISSING' });
  });
});
