import { auditEntryMatches, normalizeAuditQuery, prepareAuditEntries } from './audit-index-arguments.ts';
import type { AuditEntry, AuditHit, AuditIndexStore } from './audit-index.port.ts';
import type { RecordedEvent } from './event-store.port.ts';

/** The AuditIndexStore of the in-memory event store: entries by position, joined to the log on each query. */
export function createInMemoryAuditIndex(
  assertOpen: () => void,
  eventAt: (position: number) => RecordedEvent | undefined,
): AuditIndexStore {
  const entries = new Map<number, AuditEntry>();
  let sorted: AuditEntry[] | undefined;
  return {
    async put(given) {
      assertOpen();
      for (const entry of prepareAuditEntries(given)) entries.set(entry.position, Object.freeze(entry));
      sorted = undefined;
    },
    async query(filter, page) {
      assertOpen();
      const query = normalizeAuditQuery(filter, page);
      sorted ??= [...entries.values()].sort((a, b) => a.position - b.position);
      const hits: AuditHit[] = [];
      for (const entry of sorted) {
        if (hits.length === query.limit) break;
        const event = auditEntryMatches(entry, query) ? eventAt(entry.position) : undefined;
        if (event !== undefined) hits.push({ entry, event });
      }
      return hits;
    },
  };
}
