import { quoteForMessage } from '@orchestron/definitions';
import type { CompiledDefinition } from '@orchestron/definitions';
import { OrchestronError } from '@orchestron/errors';
import { randomUUID } from 'node:crypto';
import { Topics } from '@orchestron/bus';
import type { MessageBus, OperatorCommandMessage, WorkflowStartMessage } from '@orchestron/bus';
import type { EventStore, RecordedEvent, Subscription } from '@orchestron/event-store';
import { followEventFeed } from './event-feed.ts';
import type { EventFeedRequest, FeedEvent } from './event-feed.ts';
import { DEFAULT_TENANT, DomainError, decide, initialState, isStarted, isTerminalRun } from '@orchestron/workflow-core';
import type { RunData, RunState } from '@orchestron/workflow-core';
import { sameJson } from './bus-commands.ts';
import { currentTraceparent, withSpan } from '@orchestron/telemetry';
import type { DefinitionRegistry } from './definition-registry.ts';
import { commandTopicsOf } from './command-topics.ts';
import { ReadSide } from './read-side.ts';
import { refusalError, refusalStream } from './refusals.ts';
import { forkStart } from './run-fork.ts';
import { replay } from './replay.ts';
import { requireRun, requireString, withMetadata } from './run-requests.ts';
import { runIdForKey, traceparentFor } from './dispatch-messages.ts';
import type { RunCommand, SendEventRequest, SendEventResult, StartRunRequest, StartRunResult } from './run-service.ts';
import { publishExternalEvent } from './remote-events.ts';
import type { Wait, Watch } from './remote-events.ts';
import { silentLogger, systemClock } from './ports.ts';
import type { Clock, Logger } from './ports.ts';
import type { ReadCheckpointSettings } from './read-checkpoints.ts';
import { runSnapshotsFor } from './run-snapshots.ts';
import { ShortRuns } from './short-runs.ts';
import { LiveRuns } from './live-runs.ts';
import { LockTableStore } from './lock-table-store.ts';
import { toLockViews } from './lock-views.ts';
import type { LockView, LockViewFilter } from './lock-views.ts';
import { StartOutbox } from './start-outbox.ts';
import type { OutboxStart } from './start-outbox.ts';
import type { RunSnapshots, RunSnapshotSettings } from './run-snapshots.ts';
import { runStream } from './run-index.ts';
import type { RunIndex } from './run-index.ts';
import type { RunCount } from './run-counts.ts';
import type { RunFilter, RunSummary } from './run-index.ts';
import type { RunWaitRequest, RunWaitResult } from './run-waits.ts';
import type { RunService } from './run-service.ts';
import { scheduleServiceOf } from './schedule-service.ts';
import type { ScheduleService } from './schedule-service.ts';

export interface RemoteRunsOptions {
  readonly store: EventStore;
  readonly bus: MessageBus;
  readonly clock?: Clock;
  /** How long a call waits for the orchestrator to record what it asked for. Default 15 s. */
  readonly waitMs?: number;
  readonly logger?: Logger;
  /** As EngineOptions.readCheckpoints: the API's read models are the engine's, and may share its checkpoint. */
  readonly readCheckpoints?: ReadCheckpointSettings | false;
  /** As EngineOptions.runSnapshots: reads of long runs start from their snapshot. */
  readonly runSnapshots?: RunSnapshotSettings | false;
}

/** The orchestrators did not record a start or command in time. It is on the bus: it may still be applied, or be refused. */
export class OrchestratorPendingError extends OrchestronError<'ORCHESTRATOR.PENDING'> {
  declare readonly details: Readonly<Record<string, unknown>>;
  constructor(message: string, details: Record<string, unknown>) {
    super('ORCHESTRATOR.PENDING', message, { details });
    this.name = 'OrchestratorPendingError';
  }
}

interface Waiter {
  readonly matches: (event: RecordedEvent) => boolean;
  readonly resolve: (event: RecordedEvent) => void;
}

/**
 * The production tier's RunService, for the API process: reads come from the event store (and read models
 * projected from its global log); starts and operator commands go over the bus to the orchestrator that owns
 * the run, which is the only writer of run streams. Each call checks its command with the pure decider first,
 * so a bad request fails here with the same error the orchestrator would raise, then waits until the
 * orchestrator has recorded the result.
 */
export class RemoteRuns implements RunService {
  private readonly readSide: ReadSide;
  private readonly store: EventStore;
  private readonly bus: MessageBus;
  private readonly clock: Clock;
  private scheduleService: ScheduleService | undefined;
  private readonly waitMs: number;
  private readonly waiters = new Map<string, Set<Waiter>>();
  private readonly snapshots: RunSnapshots | undefined;
  /** Runs known to be too short to have a snapshot: loaded without asking for one (the wait's load after a start). */
  private readonly shortRuns: ShortRuns | undefined;
  private readonly outbox: StartOutbox;
  /** Runs folded as the feed tells of them: what a wait, a start or a command answers with, without a read. */
  private readonly live = new LiveRuns();
  /** Read only: the orchestrators decide on the lock table; this folds what they appended, as it is asked. */
  private readonly locks: LockTableStore;

  constructor(options: RemoteRunsOptions) {
    this.store = options.store;
    this.bus = options.bus;
    this.clock = options.clock ?? systemClock;
    this.waitMs = options.waitMs ?? 15_000;
    this.snapshots = runSnapshotsFor(this.store, options.logger ?? silentLogger, options.runSnapshots);
    this.locks = new LockTableStore(this.store);
    this.shortRuns = this.snapshots === undefined ? undefined : new ShortRuns(this.snapshots.everyEvents);
    this.outbox = new StartOutbox({
      store: this.store,
      bus: this.bus,
      logger: options.logger ?? silentLogger,
      graceMs: this.waitMs,
    });
    this.readSide = new ReadSide(this.store, {
      onEvent: (event) => {
        this.live.apply(event);
        this.wake(event);
      },
      provision: (definition) => this.bus.ensureTopics(commandTopicsOf(definition)),
      registered: (definition, tenant, actor) => this.schedules.ensureDeclared(definition, tenant, actor),
      ...(options.logger !== undefined ? { logger: options.logger } : {}),
      ...(options.readCheckpoints !== undefined ? { checkpoints: options.readCheckpoints } : {}),
    });
  }

  get index(): RunIndex {
    return this.readSide.index;
  }

  /** Schedules in the store; the engines that own their partitions fire them. */
  get schedules(): ScheduleService {
    return (this.scheduleService ??= scheduleServiceOf(this.store, this.clock, () => this.definitions));
  }

  get definitions(): DefinitionRegistry {
    return this.readSide.definitions;
  }

  async start(): Promise<void> {
    await this.readSide.follow();
    await this.outbox.start();
  }

  async stop(): Promise<void> {
    await this.outbox.stop();
    await this.readSide.close();
  }

  /** Starts recorded in the outbox and not published yet. */
  get pendingStarts(): number {
    return this.outbox.pending;
  }

  async startRun(request: StartRunRequest): Promise<StartRunResult> {
    const forked =
      request.fork === undefined ? undefined : forkStart(await this.history(request.fork.runId), request.fork, request);
    const tenant = forked?.tenant ?? request.tenant ?? DEFAULT_TENANT;
    const definition = forked?.definition ?? (await this.definitionOf(request, tenant));
    const input = forked !== undefined ? forked.input : (request.input ?? null);
    const idempotencyKey = request.idempotencyKey ?? `${forked !== undefined ? 'fork' : 'api'}:${randomUUID()}`;
    const runId = runIdForKey(definition.id, idempotencyKey, tenant);
    // A key made here (a fresh UUID) names no run yet: only a caller's key needs the read that looks for one.
    const existing = request.idempotencyKey === undefined ? null : await this.existingRun(runId);
    if (existing) {
      if (!sameJson(existing.input, input)) {
        throw new DomainError(
          'RUN.ALREADY_EXISTS',
          `idempotency key ${quoteForMessage(idempotencyKey)} was already used for run ${runId} with a different input`,
          { runId },
        );
      }
      return { run: existing, created: false };
    }
    // The orchestrator would refuse the same input for the same reason; say so now, not in a dead letter.
    decide(
      {
        type: 'StartRun',
        data: {
          runId,
          definition,
          input,
          idempotencyKey,
          tenant,
          ...(forked !== undefined ? { forkedFrom: forked.forkedFrom } : {}),
          ...(request.budget !== undefined ? { budget: request.budget } : {}),
        },
        metadata: { now: this.clock.now(), actor: request.actor },
      },
      initialState(),
    );
    const message: WorkflowStartMessage = {
      type: 'workflow.start',
      definitionId: definition.id,
      definitionVersion: definition.version,
      input,
      idempotencyKey,
      actor: request.actor,
      ...(tenant !== DEFAULT_TENANT ? { tenant } : {}),
      ...(request.keyId !== undefined ? { keyId: request.keyId } : {}),
      ...(request.fork !== undefined ? { fork: request.fork } : {}),
      ...(request.budget !== undefined ? { budget: request.budget } : {}),
    };
    this.live.expect(runId);
    const recorded = await withSpan(
      'api start run',
      { runId, kind: 'producer', attributes: { 'orchestron.definition.id': definition.id } },
      () =>
        this.recordStart(
          { runId, message, traceparent: currentTraceparent() ?? traceparentFor(runId, `start/${idempotencyKey}`) },
          request.actor,
        ),
    );
    // As the feed told of its start; else just started, so its stream is short: folded whole, without first looking
    // for a snapshot it cannot have yet.
    const state = this.live.take(runId) ?? (await this.load(runId, { snapshot: false })).state;
    if (isStarted(state)) return { run: state, created: recorded };
    return { accepted: { runId, idempotencyKey, definitionId: definition.id, definitionVersion: definition.version } };
  }

  /** The definition a start asks for: registered first when inline, else resolved in the tenant. */
  private async definitionOf(request: StartRunRequest, tenant: string): Promise<CompiledDefinition> {
    if (request.definition !== undefined)
      return (await this.definitions.register(request.definition, request.actor, tenant, request.keyId)).definition;
    return this.definitions.resolve(
      requireString(request.definitionId, 'definitionId'),
      request.definitionVersion ?? 'latest',
      tenant,
    );
  }

  /**
   * Records the start in the outbox (from then on it is accepted: the relay publishes it whenever the bus takes
   * it), then waits for an orchestrator to start the run, but not past an outage of the bus. Whether this call
   * recorded it.
   */
  private async recordStart(start: OutboxStart, actor: string): Promise<boolean> {
    const started = this.waitFor([[runStream(start.runId), (event) => event.type === 'RunStarted']]);
    const outage = this.outbox.whenUnavailable();
    try {
      const recorded = await this.outbox.record(start, actor);
      if (!recorded.recorded && !sameJson(recorded.existing.message.input ?? null, start.message.input ?? null))
        throw new DomainError(
          'RUN.ALREADY_EXISTS',
          `idempotency key ${quoteForMessage(start.message.idempotencyKey)} was already used for run ${start.runId} with a different input`,
          { runId: start.runId },
        );
      await Promise.race([started.promise, outage.promise]);
      return recorded.recorded;
    } finally {
      started.cancel();
      outage.cancel();
    }
  }

  async execute(runId: string, command: RunCommand, actor: string, keyId?: string): Promise<RunData> {
    const state = requireRun(runId, (await this.load(runId)).state);
    // Throws the decider's own error (STEP.ALREADY_TERMINAL, RUN.NOT_PAUSED, …) when the command does not apply.
    const { events } = decide(withMetadata(command, this.clock.now(), actor), state);
    if (events.length === 0) return state;
    const commandId = randomUUID();
    const message: OperatorCommandMessage = {
      type: 'operator.command',
      commandId,
      runId,
      actor,
      ...(keyId !== undefined ? { keyId } : {}),
      command: { type: command.type, data: command.data as Record<string, unknown> },
    };
    // Applied (its events carry the command id), or refused because the run moved on: whichever comes first.
    const applied = this.waitFor([
      [runStream(runId), (event) => event.metadata.commandId === commandId],
      [refusalStream(commandId), () => true],
    ]);
    const recorded = await withSpan(
      `api ${command.type}`,
      { runId, kind: 'producer', attributes: { 'orchestron.actor': actor } },
      async () => {
        await this.bus
          .publish(Topics.operatorCommands, [
            {
              key: runId,
              value: message,
              headers: { traceparent: currentTraceparent() ?? traceparentFor(runId, `command/${commandId}`) },
            },
          ])
          .catch((error: unknown) => {
            applied.cancel();
            throw error;
          });
        const answer = await this.settle(
          applied,
          `${command.type} for run ${runId} was published but its orchestrator has not applied it yet`,
          { runId, commandId },
        );
        const refusal = refusalError(answer);
        if (refusal) throw refusal;
        return answer;
      },
    );
    return this.live.atLeast(runId, recorded.revision + 1) ?? ((await this.load(runId)).state as RunData);
  }

  /** On the bus to the orchestrators, which correlate it; answered once its outcome is in the correlation stream. */
  sendEvent(request: SendEventRequest): Promise<SendEventResult> {
    return publishExternalEvent(
      {
        store: this.store,
        bus: this.bus,
        waitFor: (watch) => this.waitFor(watch),
        settle: (w, m, d) => this.settle(w, m, d),
      },
      request,
    );
  }

  cachedSummary(runId: string): RunSummary | undefined {
    return this.index.get(runId);
  }

  async getRun(runId: string): Promise<RunData | null> {
    const { state } = await this.load(runId, { snapshot: this.shortRuns?.isShort(runId) !== true });
    return isStarted(state) ? state : null;
  }

  history(runId: string): Promise<RecordedEvent[]> {
    return this.store.readStream(runStream(runId));
  }

  followEvents(request: EventFeedRequest, handler: (event: FeedEvent) => void): Subscription {
    return followEventFeed(this.store, { ...request, after: request.after ?? this.readSide.index.position }, handler);
  }

  async awaitRun(runId: string, request: RunWaitRequest): Promise<RunWaitResult> {
    const result = await this.readSide.waits.wait(runId, request);
    const run = this.live.take(runId);
    return run !== undefined ? { ...result, run } : result;
  }

  listRuns(filter: RunFilter): Promise<RunSummary[]> {
    return this.index.list(filter);
  }

  countRuns(): RunCount[] {
    return this.index.countByStatus();
  }

  async lockTable(filter: LockViewFilter): Promise<LockView[]> {
    return toLockViews(await this.locks.catchUp(), filter);
  }

  /**
   * `snapshot: false` folds the whole stream, for a run known to be short: always right (a snapshot is only a
   * shortcut), and one query instead of two.
   */
  private async load(runId: string, options: { snapshot?: boolean } = {}): Promise<{ state: RunState }> {
    if (this.snapshots !== undefined && options.snapshot !== false) {
      const loaded = await this.snapshots.load(runId);
      if (loaded.revision !== null && loaded.state.version === loaded.revision + 1) this.live.seed(runId, loaded.state);
      return loaded;
    }
    const events = await this.store.readStream(runStream(runId));
    const state = replay(events);
    this.shortRuns?.seen(runId, events.length, isStarted(state) && isTerminalRun(state.status));
    this.live.seed(runId, state);
    return { state };
  }

  /** The run, if its stream has begun: one read of the first event for a new key (the common case), else a load. */
  private async existingRun(runId: string): Promise<RunData | null> {
    const [first] = await this.store.readStream(runStream(runId), { maxCount: 1 });
    return first === undefined ? null : this.getRun(runId);
  }

  private wake(event: RecordedEvent): void {
    const waiting = this.waiters.get(event.streamId);
    if (waiting) for (const waiter of [...waiting]) if (waiter.matches(event)) waiter.resolve(event);
  }

  /** Registered before publishing, so an answer faster than the publish acknowledgement is not missed. */
  private waitFor(watch: Watch): Wait {
    const registered: [string, Waiter][] = [];
    let timer: ReturnType<typeof setTimeout> | undefined;
    const cancel = (): void => {
      clearTimeout(timer);
      for (const [stream, waiter] of registered) {
        const set = this.waiters.get(stream);
        set?.delete(waiter);
        if (set?.size === 0) this.waiters.delete(stream);
      }
    };
    const promise = new Promise<RecordedEvent | null>((resolve) => {
      for (const [stream, matches] of watch) {
        const waiter: Waiter = {
          matches,
          resolve: (event) => {
            cancel();
            resolve(event);
          },
        };
        registered.push([stream, waiter]);
        this.waiters.set(stream, (this.waiters.get(stream) ?? new Set<Waiter>()).add(waiter));
      }
      timer = setTimeout(() => {
        cancel();
        resolve(null);
      }, this.waitMs);
    });
    return { promise, cancel };
  }

  private async settle(wait: Wait, message: string, details: Record<string, unknown>): Promise<RecordedEvent> {
    const answer = await wait.promise;
    if (answer === null)
      throw new OrchestratorPendingError(
        `${message} (waited ${this.waitMs} ms); it is on the bus and may still be applied: read the run to see`,
        details,
      );
    return answer;
  }
}
