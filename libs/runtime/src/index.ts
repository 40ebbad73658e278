export { Engine } from './engine.ts';
export { runIdForKey, traceparentFor } from './dispatch-messages.ts';
export type { EngineOptions } from './engine-options.ts';
export type {
  AcceptedStart,
  ForkRequest,
  RunCommand,
  SendEventRequest,
  SendEventResult,
  StartRunRequest,
  StartRunResult,
} from './run-service.ts';
export { DEFAULT_EVENT_BUFFER_MS } from '@orchestron/bus';
export { CORRELATION_STREAM_PREFIX, correlationStream } from './correlation-stream.ts';
export { DefinitionRegistry, DefinitionError, definitionStream } from './definition-registry.ts';
export type { DefinitionEntry, RegisteredDefinition, VersionChoice } from './definition-registry.ts';
export { RunIndex, RUN_STREAM_PREFIX, runStream } from './run-index.ts';
export type { RunFilter, RunSummary } from './run-index.ts';
export type { RunCount } from './run-counts.ts';
export { auditActorOf, auditEntryOf } from './audit-entry.ts';
export type { AuditRunFacts } from './audit-entry.ts';
export { AuditIndexer, startAuditIndexer } from './audit-indexer.ts';
export type { AuditIndexerOptions } from './audit-indexer.ts';
export { jsonLogger, silentLogger, systemClock } from './ports.ts';
export type { Clock, GovernanceCheck, GovernanceRequest, GovernanceVerdict, Ids, Logger } from './ports.ts';
export { toRunView } from './views.ts';
export { parseAsOf, runAsOf } from './time-travel.ts';
export type { AsOf, AsOfRefusal, PastRun } from './time-travel.ts';
export type { RunView, StepView } from './views.ts';
export { toLockViews } from './lock-views.ts';
export type { LockHolderView, LockView, LockViewFilter, LockWaiterView } from './lock-views.ts';
export { createPolicyGovernance } from './governance.ts';
export type { DefinitionCatalog, RunService } from './run-service.ts';
export type { EventFeedRequest, FeedEvent } from './event-feed.ts';
export { OrchestratorPendingError, RemoteRuns } from './remote-runs.ts';
export type { RemoteRunsOptions } from './remote-runs.ts';
export { inputDigest } from '@orchestron/workflow-core';
export { flowMetricsObserver, metricsObserver, runMetricsSource } from './metrics.ts';
export { FlowControl, flowControlFromEnv, RUNTIME_FLOW_DEFAULTS } from './flow-control.ts';
export type { FlowControlSettings, FlowSnapshot, HeldAttempt } from './flow-control.ts';
export { DEFAULT_WAIT_MS, MAX_OPEN_WAITS, MAX_WAIT_MS, ServerBusyError } from './run-waits.ts';
export type { RunWaitRequest, RunWaitResult } from './run-waits.ts';
export { READ_CHECKPOINT_DEFAULTS } from './read-checkpoints.ts';
export type { ReadCheckpointSettings } from './read-checkpoints.ts';
export { lastLogPosition, rebuildReadModels, saveRebuiltModels } from './read-models-rebuild.ts';
export type { RebuildProgress, RebuiltReadModels, SavedReadModels } from './read-models-rebuild.ts';
export { verifyReadModels } from './read-models-verify.ts';
export type { LiveCheckpoint, ReadModelDifference, ReadModelsVerification } from './read-models-verify.ts';
export type { RunSnapshotSettings } from './run-snapshots.ts';
export { DEFAULT_SCHEDULE_TICK_MS, Scheduler, SCHEDULER_ACTOR } from './scheduler.ts';
export type { SchedulerDeps } from './scheduler.ts';
export {
  MAX_SCHEDULE_INPUT_BYTES,
  MAX_SCHEDULES_PER_TENANT,
  SCHEDULE_ID,
  SCHEDULE_ID_RULE,
  ScheduleService,
} from './schedule-service.ts';
export type { CreateScheduleRequest, ScheduleFireView, ScheduleServiceDeps, ScheduleView } from './schedule-service.ts';
export { SCHEDULE_DIRECTORY, SCHEDULE_STREAM_PREFIX, scheduleOwnerKey, scheduleStream } from './schedule-streams.ts';
export type { ScheduleRef } from './schedule-streams.ts';
export { LOCK_TABLE_STREAM, LockTableStore } from './lock-table-store.ts';
export type { LockDecision } from './lock-table-store.ts';
export { LOCKS_ACTOR } from './resource-locks.ts';
