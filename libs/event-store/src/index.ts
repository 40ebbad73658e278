// The EventStore port. Adapters build on './adapter'; test kits live in './testing'.
export type {
  AppendOptions,
  AppendResult,
  EventData,
  EventHandler,
  EventStore,
  ExpectedRevision,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  SubscribeToAllOptions,
  Subscription,
} from './event-store.port.ts';
export type { Checkpoint, CheckpointStore } from './checkpoints.port.ts';
export { MAX_AUDIT_PAGE } from './audit-index.port.ts';
export type { AuditEntry, AuditFilter, AuditHit, AuditIndexStore, AuditPage } from './audit-index.port.ts';
export { MAX_READ_ROWS_PER_LIST } from './read-rows.port.ts';
export type { ReadRow, ReadRowQuery, ReadRowStore } from './read-rows.port.ts';
export {
  CheckpointCorruptError,
  EventStoreClosedError,
  EventStoreUnavailableError,
  ExpectedVersionConflictError,
} from './errors.ts';
export type { EventStoreError, EventStoreErrorCode } from './errors.ts';
export { createInMemoryEventStore } from './in-memory-event-store.ts';
export type { InMemoryEventStoreOptions } from './in-memory-event-store.ts';
