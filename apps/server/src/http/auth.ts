import { quoteForMessage, TENANT_PATTERN, TENANT_RULE } from '@orchestron/definitions';
import { RequestError } from './errors.ts';

export type Role = 'producer' | 'worker' | 'operator' | 'auditor' | 'admin';
export const ROLES: readonly Role[] = ['producer', 'worker', 'operator', 'auditor', 'admin'];

/** The tenant of keys and runs that name none. */
export const DEFAULT_TENANT = 'default';
/** A tenant id, as the definitions lib states the rule. */
export const TENANT = new RegExp(TENANT_PATTERN);

/** Who made a call: the key's id (recorded in events, never its secret), its subject, tenant, role and groups. */
export interface Principal {
  readonly keyId: string;
  readonly subject: string;
  readonly tenant: string;
  readonly role: Role;
  /** What the key holds for approval gates' `assignees` (docs/security.md); empty for none. */
  readonly groups: readonly string[];
}

/** A key given in configuration (ORCHESTRON_API_KEYS, or the embedded server's admin.key). */
export interface ApiKey {
  readonly key: string;
  readonly role: Role;
  readonly name: string;
  readonly tenant?: string;
  readonly groups?: readonly string[];
}

/** The most groups one key may hold. */
export const MAX_GROUPS = 32;
const GROUP = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
export const GROUPS_RULE = `"groups" must be a list of at most ${MAX_GROUPS} group names, each 1 to 63 characters of a-z, A-Z, 0-9, ., _ and -, starting with a letter or digit`;

/** What is wrong with a key's groups, naming the first bad one; null when there is nothing wrong. */
export function groupsProblem(groups: unknown): string | null {
  if (!Array.isArray(groups)) return `${GROUPS_RULE}; got ${kindOf(groups)}`;
  if (groups.length > MAX_GROUPS) return `${GROUPS_RULE}; got ${groups.length}`;
  const bad = groups.findIndex((g) => typeof g !== 'string' || !GROUP.test(g));
  if (bad < 0) return null;
  const value: unknown = groups[bad];
  return `${GROUPS_RULE}; groups[${bad}] is ${typeof value === 'string' ? quoteForMessage(value) : `a ${kindOf(value)}`}`;
}

const kindOf = (value: unknown): string => (value === null ? 'null' : typeof value);

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

/**
 * `key:role[:name[:tenant[:groups]]]` entries separated by commas, as in ORCHESTRON_API_KEYS; groups are joined by
 * `+`, and an empty tenant is the default one (`key:operator:ann::finance+hr`).
 */
export function parseApiKeys(text: string): ApiKey[] {
  const keys = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(parseApiKey);
  const names = new Set<string>();
  for (const k of keys) {
    if (names.has(k.name))
      throw new Error(`ORCHESTRON_API_KEYS: the name "${k.name}" is given twice; names identify keys in events`);
    names.add(k.name);
  }
  return keys;
}

function parseApiKey(entry: string, index: number): ApiKey {
  const at = `ORCHESTRON_API_KEYS entry ${index + 1}`;
  const fields = entry.split(':');
  const [key, role, name, tenant, groupList] = fields;
  if (!key || key.length < 16) throw new Error(`${at}: a key must be at least 16 characters`);
  if (!ROLES.includes(role as Role)) throw new Error(`${at}: role must be one of ${ROLES.join(', ')}`);
  if (tenant && !isTenant(tenant)) throw new Error(`${at}: the tenant must be ${TENANT_RULE}`);
  // A sixth field is most likely a group written after a colon instead of a plus: refused, not dropped.
  if (fields.length > 5) throw new Error(`${at}: an entry is key:role[:name[:tenant[:groups]]], groups joined by +`);
  const groups = groupList ? groupList.split('+') : [];
  const problem = groupsProblem(groups);
  if (problem) throw new Error(`${at}: ${problem}`);
  return {
    key,
    role: role as Role,
    name: name || `${role}-${index + 1}`,
    ...(tenant ? { tenant } : {}),
    ...(groups.length > 0 ? { groups } : {}),
  };
}
