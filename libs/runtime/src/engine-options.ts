import type { MessageBus } from '@orchestron/bus';
import type { EventStore } from '@orchestron/event-store';
import type { RunData, RunState, WorkflowEvent } from '@orchestron/workflow-core';
import type { FlowControlSettings, FlowSnapshot } from './flow-control.ts';
import type { GovernanceRetry } from './governance-client.ts';
import type { Clock, GovernanceCheck, Ids, Logger } from './ports.ts';
import type { ReadCheckpointSettings } from './read-checkpoints.ts';
import type { RunSnapshotSettings } from './run-snapshots.ts';

export interface EngineOptions {
  readonly store: EventStore;
  readonly bus: MessageBus;
  readonly clock?: Clock;
  readonly ids?: Ids;
  /**
   * A function: governance in this process (the embedded tier). `'bus'`: requests go to
   * `orchestron.governance.requests` and decisions come back on `orchestron.governance.decisions` (the
   * governance service). Absent: every side-effecting step is allowed, and the decision says so.
   */
  readonly governance?: GovernanceCheck | 'bus';
  readonly logger?: Logger;
  /** Consumer group of the orchestrator instances. */
  readonly group?: string;
  /**
   * Whether `start` subscribes to the bus itself (default). A host with its own transport (the NestJS
   * orchestrator service) passes false, feeds `handle` each message of `consumedTopics` and `assign` each
   * partition assignment.
   */
  readonly consume?: boolean;
  /** Extra metadata on every event this engine appends (which instance wrote it). */
  readonly metadata?: Readonly<Record<string, string>>;
  /** Told of every batch of events this engine appended (metrics). Must not throw. */
  readonly observer?: (before: RunState, after: RunData, events: readonly WorkflowEvent[]) => void;
  /** Circuit breakers and concurrency limits per worker name (defaults: RUNTIME_FLOW_DEFAULTS). */
  readonly flowControl?: FlowControlSettings;
  /** Told when a worker's breaker, in-flight count or held queue changes (metrics). Must not throw. */
  readonly onFlowChange?: (snapshot: FlowSnapshot) => void;
  /** Backoff for governance checks that failed for a transient reason (default GOVERNANCE_RETRY_DEFAULTS). */
  readonly governanceRetry?: GovernanceRetry;
  /**
   * When the read models (run index, definitions) are checkpointed in the store, so a start catches up from the
   * checkpoint instead of replaying the whole log (READ_CHECKPOINT_DEFAULTS). false: never.
   */
  readonly readCheckpoints?: ReadCheckpointSettings | false;
  /** Snapshots of long runs in the store's checkpoints, so loading one does not fold its whole history. false: none. */
  readonly runSnapshots?: RunSnapshotSettings | false;
  /** How long an event no step waits for is kept for one that will (ORCHESTRON_EVENT_BUFFER; default 24 h). */
  readonly eventBufferMs?: number;
  /**
   * How often this engine looks for due schedule fires, in ms (default DEFAULT_SCHEDULE_TICK_MS); false: it fires
   * none (a process that only serves the API). It fires only the schedules whose partition it owns.
   */
  readonly scheduleTickMs?: number | false;
}
