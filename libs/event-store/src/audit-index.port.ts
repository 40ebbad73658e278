import type { RecordedEvent } from './recorded-event.ts';

/**
 * What the audit index knows of one event of a run: who, what and when, lifted out of the event so a search by any
 * of them is an index lookup, not a scan of the log. One entry per event, keyed by the event's global position.
 */
export interface AuditEntry {
  /** Positive integer: the global position of the event. */
  readonly position: number;
  readonly runId: string;
  /** The run's tenant, from its RunStarted. */
  readonly tenant: string;
  readonly definitionId: string;
  readonly type: string;
  /** Who acted (an operator's `by`, a start's `startedBy`, the command's actor); null when nobody did. */
  readonly actor: string | null;
  readonly stepId: string | null;
  /** The governance policy that decided: on a GovernanceDecided, or on a StepDispatched with a standing allow (ADR 43). */
  readonly policyId: string | null;
  /** ISO-8601 instant; stored as `toISOString` gives it, so that ranges compare as instants. */
  readonly recordedAt: string;
}

/** Every field given must match; `since` is inclusive and `until` exclusive (ISO-8601 instants). */
export interface AuditFilter {
  readonly tenant?: string;
  readonly runId?: string;
  readonly definitionId?: string;
  readonly actor?: string;
  readonly type?: string;
  readonly stepId?: string;
  readonly policyId?: string;
  readonly since?: string;
  readonly until?: string;
}

export interface AuditPage {
  /** Exclusive global position: the last position of the page before. Default 0. */
  readonly after?: number;
  /** 1 to MAX_AUDIT_PAGE. */
  readonly limit: number;
}

/** An entry with the event it indexes, read from the log in the same query. */
export interface AuditHit {
  readonly entry: AuditEntry;
  readonly event: RecordedEvent;
}

export const MAX_AUDIT_PAGE = 1_000;

/**
 * An optional capability of an EventStore: an index of the log's run events by tenant, run, definition, actor, type,
 * step, policy and time, kept beside the log. Writing it never appends to the log.
 *
 * - `put` upserts its entries by position in one transaction: a reader sees all of them or none. Putting the same
 *   entries again (a projection replaying after a crash) changes nothing.
 * - `query` answers the entries that match, with their events, in position order, after `after`, at most `limit`.
 *   An entry whose event the log does not hold is never answered.
 */
export interface AuditIndexStore {
  put(entries: readonly AuditEntry[]): Promise<void>;
  query(filter: AuditFilter, page: AuditPage): Promise<AuditHit[]>;
}
