import { quoteForMessage, TENANT_PATTERN, TENANT_RULE } from '@orchestron/definitions';
import { RequestError } from './errors.ts';

export type Role = 'producer' | 'worker' | 'operator' | 'auditor' | 'admin';
export const ROLES: readonly Role[] = ['producer', 'worker', 'operator', 'auditor', 'admin'];

/** The tenant of keys and runs that name none. */
export const DEFAULT_TENANT = 'default';
/** A tenant id, as the definitions lib states the rule. */
export const TENANT = new RegExp(TENANT_PATTERN);

/** Who made a call: the key's id (recorded in events, never its secret), its subject, tenant and role. */
export interface Principal {
  readonly keyId: string;
  readonly subject: string;
  readonly tenant: string;
  readonly role: Role;
}

/** A key given in configuration (ORCHESTRON_API_KEYS, or the embedded server's admin.key). */
export interface ApiKey {
  readonly key: string;
  readonly role: Role;
  readonly name: string;
  readonly tenant?: string;
}

/** Finds who a bearer token belongs to; null when it belongs to no live key. */
export interface Authenticator {
  authenticate(token: string): Promise<Principal | null>;
}

/** An admin acts across tenants; every other role sees its own tenant only. */
export function seesAllTenants(principal: Principal): boolean {
  return principal.role === 'admin';
}

/** Whether the caller may see something of `tenant`. */
export function maySee(principal: Principal, tenant: string): boolean {
  return seesAllTenants(principal) || principal.tenant === tenant;
}

/**
 * Which tenant a read is about: an admin's `?tenant=` (absent: every tenant); anyone else's own, and asking for
 * another is refused.
 */
export function tenantScope(principal: Principal, asked: string | undefined): string | undefined {
  if (seesAllTenants(principal)) return asked;
  if (asked !== undefined && asked !== principal.tenant) {
    throw new RequestError(
      'AUTH.FORBIDDEN',
      `a ${principal.role} key of tenant ${principal.tenant} may not read tenant ${quoteForMessage(asked)}`,
      { field: 'tenant' },
    );
  }
  return principal.tenant;
}

/** `role:subject`, as events record who acted. */
export function actorOf(principal: Principal): string {
  return `${principal.role}:${principal.subject}`;
}

export function isTenant(text: string): boolean {
  return TENANT.test(text);
}

/** `key:role[:name[:tenant]]` entries separated by commas, as in ORCHESTRON_API_KEYS. */
export function parseApiKeys(text: string): ApiKey[] {
  const keys = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry, i) => {
      const [key, role, name, tenant] = entry.split(':');
      const at = `ORCHESTRON_API_KEYS entry ${i + 1}`;
      if (!key || key.length < 16) throw new Error(`${at}: a key must be at least 16 characters`);
      if (!ROLES.includes(role as Role)) throw new Error(`${at}: role must be one of ${ROLES.join(', ')}`);
      if (tenant !== undefined && !isTenant(tenant)) throw new Error(`${at}: the tenant must be ${TENANT_RULE}`);
      return { key, role: role as Role, name: name || `${role}-${i + 1}`, ...(tenant ? { tenant } : {}) };
    });
  const names = new Set<string>();
  for (const k of keys) {
    if (names.has(k.name))
      throw new Error(`ORCHESTRON_API_KEYS: the name "${k.name}" is given twice; names identify keys in events`);
    names.add(k.name);
  }
  return keys;
}
