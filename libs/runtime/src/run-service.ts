import type { Budget, CompiledDefinition } from '@orchestron/definitions';
import type { DefinitionEntry, VersionChoice } from './definition-registry.ts';
import type { RecordedEvent, Subscription } from '@orchestron/event-store';
import type { Command, RunData } from '@orchestron/workflow-core';
import type { EventFeedRequest, FeedEvent } from './event-feed.ts';
import type { LockView, LockViewFilter } from './lock-views.ts';
import type { RunCount } from './run-counts.ts';
import type { RunFilter, RunSummary } from './run-index.ts';
import type { RunWaitRequest, RunWaitResult } from './run-waits.ts';
import type { ScheduleService } from './schedule-service.ts';

export interface StartRunRequest {
  /** An inline definition, registered first (the edge checks that the caller may register definitions). */
  readonly definition?: unknown;
  readonly definitionId?: string;
  /** With definitionId: `latest` (the default) or one version. The run records which it got. */
  readonly definitionVersion?: VersionChoice;
  readonly input?: unknown;
  readonly idempotencyKey?: string;
  readonly actor: string;
  /** Whose run it is; its definition is looked up there and its idempotency key is scoped to it. Default `default`. */
  readonly tenant?: string;
  /** The id of the API key that asked (never its secret), recorded in the metadata of RunStarted. */
  readonly keyId?: string;
  /**
   * A fork of another run: the new run takes that run's pinned definition (`definition` and `definitionId` are not
   * used) and its input unless `input` is given, and starts with the steps done by `revision` (docs/semantics.md#fork).
   */
  readonly fork?: ForkRequest;
  /** Caps what the run's agents may spend; overrides the definition's `budget`. */
  readonly budget?: Budget;
}

export interface ForkRequest {
  /** The parent run. */
  readonly runId: string;
  /** The revision of the parent's history the fork starts from (revisions count from 0). */
  readonly revision: number;
  readonly reason?: string;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** A command for a run from outside it (an operator, a worker's report), without the metadata the runtime adds. */
export type RunCommand = DistributiveOmit<Exclude<Command, { type: 'StartRun' }>, 'metadata'>;

/**
 * A start recorded but not started yet: in API mode, the start is in the event store's outbox and goes to the
 * orchestrators when the bus takes it (HTTP 202). Asking again with the same idempotency key answers this again
 * until the run has started, then the run.
 */
export interface AcceptedStart {
  readonly runId: string;
  readonly idempotencyKey: string;
  readonly definitionId: string;
  readonly definitionVersion: number;
}

export type StartRunResult = { run: RunData; created: boolean } | { accepted: AcceptedStart };

/** The definitions an edge may register and read, per tenant (default `default`). */
export interface DefinitionCatalog {
  /** `keyId`: the API key that asked, recorded with the registration (never its secret). */
  register(
    raw: unknown,
    actor: string,
    tenant?: string,
    keyId?: string,
  ): Promise<{ definition: CompiledDefinition; created: boolean }>;
  /** Whether exactly this content is registered in the tenant already (throws DefinitionInvalidError if it does not compile). */
  isRegistered(raw: unknown, tenant?: string): boolean;
  get(id: string, version?: VersionChoice, tenant?: string): CompiledDefinition;
  /** One tenant's definitions, or every tenant's when absent. */
  list(tenant?: string): DefinitionEntry[];
}

/**
 * What the HTTP edge needs of Orchestron. The embedded tier's Engine is one (it runs everything in-process);
 * the production tier's API talks to the orchestrators over the bus and reads the event store (RemoteRuns).
 */
export interface RunService {
  readonly definitions: DefinitionCatalog;
  startRun(request: StartRunRequest): Promise<StartRunResult>;
  /** Applies an operator command; throws DomainError (stable code) when it does not apply. */
  execute(runId: string, command: RunCommand, actor: string, keyId?: string): Promise<RunData>;
  getRun(runId: string): Promise<RunData | null>;
  /**
   * The run's summary if this process holds it in memory (a run still moving, as a rule), else undefined: no read
   * of the store. It may lag the log by the events not yet projected; what never changes (the tenant) is safe.
   */
  cachedSummary(runId: string): RunSummary | undefined;
  history(runId: string): Promise<RecordedEvent[]>;
  /** Newest first; ended runs may come from the store's archive, so this reads the store. */
  listRuns(filter: RunFilter): Promise<RunSummary[]>;
  /** How many runs each tenant has in each status, from memory (the metrics scrape this). */
  countRuns(): RunCount[];
  /** Long poll: until the run ends (or changes past `after`), the time is up, or the signal aborts. */
  awaitRun(runId: string, request: RunWaitRequest): Promise<RunWaitResult>;
  /** An event from outside for the event steps of the tenant's runs waiting for its name and key. */
  sendEvent(request: SendEventRequest): Promise<SendEventResult>;
  /** Schedules that start runs on a cron rule, in the store (the orchestrators fire them). */
  readonly schedules: ScheduleService;
  /** Run events as they are recorded, past `after` (absent: from now), of one run or tenant (event-feed.ts). */
  followEvents(request: EventFeedRequest, handler: (event: FeedEvent) => void): Subscription;
  /** Who holds and who waits for each resource lock, from the lock table's stream (lock-views.ts). */
  lockTable(filter: LockViewFilter): Promise<LockView[]>;
}

/** An event from outside (`POST /v1/events`, `orchestron send-event`, `orchestron.external.events`). */
export interface SendEventRequest {
  readonly tenant: string;
  readonly name: string;
  readonly key: string;
  /** The producer's id: a second event with the same id, name and key is a duplicate, and ignored. */
  readonly id: string;
  readonly payload?: unknown;
  readonly actor: string;
}

/**
 * `delivered`: to these steps, which were waiting. `buffered`: no step waited; it is kept until `expiresAt` for the
 * first that will. `duplicate`: an event with this id came before (`deliveredTo` says where that one went).
 */
export type SendEventResult =
  | {
      readonly status: 'delivered' | 'duplicate';
      readonly eventId: string;
      readonly deliveredTo: readonly { readonly runId: string; readonly stepId: string }[];
    }
  | {
      readonly status: 'buffered';
      readonly eventId: string;
      readonly deliveredTo: readonly [];
      readonly expiresAt: string;
    };
