// Building blocks for EventStore adapters, so each one validates, serializes and fans out exactly alike.
export { assertStreamId, normalizeReadAllOptions, normalizeReadStreamOptions, prepareAppend } from './arguments.ts';
export type {
  NormalizedReadAllOptions,
  NormalizedReadStreamOptions,
  PreparedAppend,
  PreparedEvent,
} from './arguments.ts';
export { isExpectedRevisionSatisfied } from './expected-revision.ts';
export { createSubscriptionHub } from './subscription-hub.ts';
export type { ReadCommittedAfter, SubscriptionHub, SubscriptionHubOptions } from './subscription-hub.ts';
export { assertCheckpointName, openCheckpoint, sealCheckpoint } from './checkpoint-seal.ts';
export type { SealedCheckpoint } from './checkpoint-seal.ts';
export {
  assertReadRowId,
  assertReadRowTable,
  normalizeReadRowQuery,
  prepareReadRows,
  readRowMatches,
} from './read-rows-arguments.ts';
export {
  AUDIT_LABELS,
  auditEntryMatches,
  normalizeAuditQuery,
  normalizeInstant,
  prepareAuditEntries,
} from './audit-index-arguments.ts';
export type { AuditLabel, NormalizedAuditQuery } from './audit-index-arguments.ts';
export { AUDIT_COLUMNS, auditHitOf, auditQueryValues } from './audit-index-rows.ts';
export type { AuditHitRow } from './audit-index-rows.ts';
