import { timingSafeEqual } from 'node:crypto';

export type Role = 'producer' | 'worker' | 'operator' | 'auditor' | 'admin';
export const ROLES: readonly Role[] = ['producer', 'worker', 'operator', 'auditor', 'admin'];

export interface Principal {
  readonly name: string;
  readonly role: Role;
}

export interface ApiKey extends Principal {
  readonly key: string;
}

/** `key:role[:name]` entries separated by commas, as in ORCHESTRON_API_KEYS. */
export function parseApiKeys(text: string): ApiKey[] {
  return text.split(',').map((s) => s.trim()).filter(Boolean).map((entry, i) => {
    const [key, role, name] = entry.split(':');
    if (!key || key.length < 16) throw new Error(`ORCHESTRON_API_KEYS entry ${i + 1}: a key must be at least 16 characters`);
    if (!ROLES.includes(role as Role)) throw new Error(`ORCHESTRON_API_KEYS entry ${i + 1}: role must be one of ${ROLES.join(', ')}`);
    return { key, role: role as Role, name: name || `${role}-${i + 1}` };
  });
}

export function authenticate(keys: readonly ApiKey[], header: string | undefined): Principal | null {
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  if (!match) return null;
  const given = Buffer.from(match[1] as string);
  for (const k of keys) {
    const expected = Buffer.from(k.key);
    if (expected.length === given.length && timingSafeEqual(expected, given)) return { name: k.name, role: k.role };
  }
  return null;
}
