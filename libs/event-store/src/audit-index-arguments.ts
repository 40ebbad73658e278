import type { AuditEntry, AuditFilter, AuditPage } from './audit-index.port.ts';
import { MAX_AUDIT_PAGE } from './audit-index.port.ts';
import { isStorableText } from './checkpoint-seal.ts';

const MAX_LABEL_LENGTH = 200;
/** The filter fields matched by equality, in the order adapters bind them. */
export const AUDIT_LABELS = ['tenant', 'runId', 'definitionId', 'actor', 'type', 'stepId', 'policyId'] as const;
export type AuditLabel = (typeof AUDIT_LABELS)[number];
/** A calendar date (UTC midnight) or a date and time with a zone: what `since`, `until` and `recordedAt` accept. */
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;

export type NormalizedAuditQuery = { -readonly [K in keyof AuditFilter]: AuditFilter[K] } & {
  after: number;
  limit: number;
};

function assertLabel(value: unknown, what: string): asserts value is string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_LABEL_LENGTH)
    throw new TypeError(`${what} must be a string of 1 to ${MAX_LABEL_LENGTH} characters`);
  if (!isStorableText(value)) throw new TypeError(`${what} must be well-formed Unicode without U+0000`);
}

function optionalLabel(value: unknown, what: string): string | null {
  if (value === null) return null;
  assertLabel(value, what);
  return value;
}

/** The instant as `toISOString` writes it (so stored instants compare as text), or a TypeError naming `what`. */
export function normalizeInstant(value: unknown, what: string): string {
  const time = typeof value === 'string' && ISO_INSTANT.test(value) ? Date.parse(value) : Number.NaN;
  if (!Number.isFinite(time))
    throw new TypeError(`${what} must be an ISO-8601 date or date-time with a zone, e.g. 2025-01-31T12:00:00Z`);
  return new Date(time).toISOString();
}

/** Checks a put's entries, so every adapter stores exactly what the port accepted. Copies them. */
export function prepareAuditEntries(entries: unknown): AuditEntry[] {
  if (!Array.isArray(entries)) throw new TypeError('audit entries must be an array');
  return entries.map((entry: unknown, index) => {
    const at = `audit entries[${index}]`;
    if (typeof entry !== 'object' || entry === null) throw new TypeError(`${at} must be an object`);
    const given = entry as Partial<AuditEntry>;
    const { position } = given;
    if (typeof position !== 'number' || !Number.isSafeInteger(position) || position < 1)
      throw new TypeError(`${at}.position must be a positive integer`);
    for (const field of ['runId', 'tenant', 'definitionId', 'type'] as const)
      assertLabel(given[field], `${at}.${field}`);
    return {
      position,
      runId: given.runId as string,
      tenant: given.tenant as string,
      definitionId: given.definitionId as string,
      type: given.type as string,
      actor: optionalLabel(given.actor, `${at}.actor`),
      stepId: optionalLabel(given.stepId, `${at}.stepId`),
      policyId: optionalLabel(given.policyId, `${at}.policyId`),
      recordedAt: normalizeInstant(given.recordedAt, `${at}.recordedAt`),
    };
  });
}

/** Checks a query and fills in its defaults; instants come back as `toISOString` writes them. */
export function normalizeAuditQuery(filter: unknown, page: unknown): NormalizedAuditQuery {
  if (typeof filter !== 'object' || filter === null) throw new TypeError('audit filter must be an object');
  if (typeof page !== 'object' || page === null) throw new TypeError('audit page must be an object');
  const { after = 0, limit } = page as Partial<AuditPage>;
  if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 1 || limit > MAX_AUDIT_PAGE)
    throw new TypeError(`audit page.limit must be an integer from 1 to ${MAX_AUDIT_PAGE}`);
  if (typeof after !== 'number' || !Number.isSafeInteger(after) || after < 0)
    throw new TypeError('audit page.after must be a non-negative integer');
  const given = filter as AuditFilter;
  const normalized: NormalizedAuditQuery = { after, limit };
  for (const label of AUDIT_LABELS) {
    const value = given[label];
    if (value === undefined) continue;
    assertLabel(value, `audit filter.${label}`);
    normalized[label] = value;
  }
  if (given.since !== undefined) normalized.since = normalizeInstant(given.since, 'audit filter.since');
  if (given.until !== undefined) normalized.until = normalizeInstant(given.until, 'audit filter.until');
  return normalized;
}

/** Whether an entry answers a (normalized) query: for adapters that filter in memory. */
export function auditEntryMatches(entry: AuditEntry, query: NormalizedAuditQuery): boolean {
  if (entry.position <= query.after) return false;
  if (query.since !== undefined && entry.recordedAt < query.since) return false;
  if (query.until !== undefined && entry.recordedAt >= query.until) return false;
  return AUDIT_LABELS.every((label) => query[label] === undefined || entry[label] === query[label]);
}
