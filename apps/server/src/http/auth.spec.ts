import { describe, expect, it } from '@jest/globals';
import { parseApiKeys } from './auth.ts';

const KEY = 'configured-key-0123456789';

describe('ORCHESTRON_API_KEYS', () => {
  it('reads key:role[:name[:tenant[:groups]]], groups joined by +, an empty tenant being the default one', () => {
    expect(
      parseApiKeys(
        `${KEY}a:admin, ${KEY}b:operator:ann:acme:finance+hr, ${KEY}c:operator:bob::finance, ${KEY}d:auditor`,
      ),
    ).toEqual([
      { key: `${KEY}a`, role: 'admin', name: 'admin-1' },
      { key: `${KEY}b`, role: 'operator', name: 'ann', tenant: 'acme', groups: ['finance', 'hr'] },
      { key: `${KEY}c`, role: 'operator', name: 'bob', groups: ['finance'] },
      { key: `${KEY}d`, role: 'auditor', name: 'auditor-4' },
    ]);
  });

  it('refuses a bad group, naming the entry and the group', () => {
    expect(() => parseApiKeys(`${KEY}:operator:ann:acme:finance+bad group`)).toThrow(
      /^ORCHESTRON_API_KEYS entry 1: "groups" must be a list of at most 32 group names.*; groups\[1\] is "bad group"$/,
    );
    expect(() => parseApiKeys(`${KEY}:operator:ann:acme:finance++hr`)).toThrow('groups[1] is ""');
    const many = Array.from({ length: 33 }, (_, i) => `g${i}`).join('+');
    expect(() => parseApiKeys(`${KEY}:operator:ann:acme:${many}`)).toThrow('got 33');
  });

  it('refuses a sixth field rather than drop it (a group after a colon instead of a plus)', () => {
    expect(() => parseApiKeys(`${KEY}:operator:ann:acme:finance:hr`)).toThrow(
      'ORCHESTRON_API_KEYS entry 1: an entry is key:role[:name[:tenant[:groups]]], groups joined by +',
    );
  });

  it('still refuses a short key, an unknown role and a bad tenant', () => {
    expect(() => parseApiKeys('short:admin')).toThrow('at least 16 characters');
    expect(() => parseApiKeys(`${KEY}:root`)).toThrow('role must be one of');
    expect(() => parseApiKeys(`${KEY}:operator:ann:Acme Corp`)).toThrow('the tenant must be');
  });
});
