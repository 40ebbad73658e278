import { Topics } from '@orchestron/bus';
import type { BusSubscription, DeliveredMessage, MessageBus, TopicPartition } from '@orchestron/bus';
import type { EventStore, RecordedEvent, Subscription } from '@orchestron/event-store';
import { followEventFeed } from './event-feed.ts';
import type { EventFeedRequest, FeedEvent } from './event-feed.ts';
import { withSpan } from '@orchestron/telemetry';
import { isStarted, isTerminalRun } from '@orchestron/workflow-core';
import type { Command, RunData, RunState, Timer } from '@orchestron/workflow-core';
import { chainPlans } from './append-plans.ts';
import type { ChildRuns } from './child-runs.ts';
import type { DefinitionRegistry } from './definition-registry.ts';
import { commandTopicsOf } from './command-topics.ts';
import { effectHandlersOf } from './effect-handlers.ts';
import type { EffectRunner } from './effect-runner.ts';
import type { EventCorrelator } from './event-correlator.ts';
import { handleExternalEventMessage } from './external-event-messages.ts';
import type { EngineOptions } from './engine-options.ts';
import { FlowControl } from './flow-control.ts';
import { FlowDispatch } from './flow-dispatch.ts';
import type { GovernanceClient } from './governance-client.ts';
import { PartitionOwnership } from './ownership.ts';
import { describeError, silentLogger, systemClock } from './ports.ts';
import type { Clock, Ids, Logger } from './ports.ts';
import { ReadSide } from './read-side.ts';
import { newRunId } from './run-ids.ts';
import { Rebalance } from './rebalance.ts';
import type { LockTableStore } from './lock-table-store.ts';
import { toLockViews } from './lock-views.ts';
import type { LockView, LockViewFilter } from './lock-views.ts';
import type { ResourceLocks } from './resource-locks.ts';
import { recordRefusal } from './refusals.ts';
import { replay } from './replay.ts';
import { runSnapshotsFor } from './run-snapshots.ts';
import { startRun } from './run-start.ts';
import type { RunCount } from './run-counts.ts';
import type { RunIndex, RunFilter, RunSummary } from './run-index.ts';
import type { RunWaitRequest, RunWaitResult } from './run-waits.ts';
import { runStream } from './run-index.ts';
import { RunCommands } from './run-commands.ts';
import type { Applied } from './run-commands.ts';
import { handleRunMessage } from './run-messages.ts';
import type { MessageTarget } from './run-messages.ts';
import { scheduleServiceOf } from './schedule-service.ts';
import type { ScheduleService } from './schedule-service.ts';
import type { RunCommand, RunService, SendEventRequest, SendEventResult, StartRunRequest } from './run-service.ts';
import { keyMetadata, requireRun, withMetadata } from './run-requests.ts';
import { fireTimer } from './timer-firing.ts';
import { DEFAULT_SCHEDULE_TICK_MS, schedulerOf } from './scheduler.ts';
import type { Scheduler } from './scheduler.ts';
import { TimerWheel } from './timers.ts';

/**
 * The orchestrator: decide → append → carry out the effects. It is the only writer of run streams; every decision is
 * in the stream before anything leaves for a worker, and on taking a run over it does again whatever was decided but
 * may not have happened (workers drop what they have already done, by idempotency key). The parts: RunCommands
 * (queue, cache, decide, append), FlowDispatch (flow control around sends), the EffectRunner and what it hands
 * effects to (effect-handlers.ts), recovery, and the ReadSide.
 */
export class Engine implements RunService {
  readonly flow: FlowControl;
  private readonly store: EventStore;
  private readonly bus: MessageBus;
  private readonly clock: Clock;
  private readonly ids: Ids;
  private readonly logger: Logger;
  private readonly governed: boolean;
  private readonly governanceOverBus: boolean;
  private readonly consume: boolean;
  private readonly group: string;
  private readonly ownership: PartitionOwnership;
  private readonly readSide: ReadSide;
  private readonly commands: RunCommands;
  private readonly dispatch: FlowDispatch;
  private readonly effects: EffectRunner;
  private readonly governance: GovernanceClient;
  private readonly timers: TimerWheel;
  private readonly target: MessageTarget;
  private readonly rebalance: Rebalance;
  private readonly correlator: EventCorrelator;
  private readonly children: ChildRuns;
  private readonly locks: ResourceLocks;
  private readonly lockStore: LockTableStore;
  private readonly scheduler: Scheduler | null;
  private subscription: BusSubscription | undefined;
  private scheduleService: ScheduleService | undefined;
  private stopped = false;

  constructor(options: EngineOptions) {
    this.store = options.store;
    this.bus = options.bus;
    this.clock = options.clock ?? systemClock;
    this.ids = options.ids ?? { newRunId };
    this.logger = options.logger ?? silentLogger;
    this.governed = options.governance !== undefined;
    this.governanceOverBus = options.governance === 'bus';
    this.consume = options.consume ?? true;
    this.group = options.group ?? Topics.group('orchestron-orchestrator');
    this.ownership = new PartitionOwnership(this.bus);
    this.readSide = new ReadSide(this.store, {
      onEvent: (event) => this.rebalance.noticeForeignWrite(event),
      provision: (definition) => this.bus.ensureTopics(commandTopicsOf(definition)),
      registered: (definition, tenant, actor) => this.schedules.ensureDeclared(definition, tenant, actor),
      logger: this.logger,
      ...(options.readCheckpoints !== undefined ? { checkpoints: options.readCheckpoints } : {}),
    });
    this.flow = new FlowControl(options.flowControl ?? {}, () => this.clock.now(), options.onFlowChange);
    this.timers = new TimerWheel(
      () => this.clock.now(),
      (runId, timer) => this.onTimer(runId, timer),
    );
    this.dispatch = new FlowDispatch({
      flow: this.flow,
      clock: this.clock,
      logger: this.logger,
      owns: (runId) => this.ownership.owns(runId),
      release: (runId, command) => this.apply(runId, command, {}),
      ended: (runId) => this.ended(runId),
      stopped: () => this.stopped,
    });
    this.commands = new RunCommands({
      store: this.store,
      logger: this.logger,
      metadata: options.metadata ?? {},
      observer: options.observer,
      snapshots: runSnapshotsFor(this.store, this.logger, options.runSnapshots),
      // The decider applies the standing governance rulings held (ADR 41). Attempts whose locks are not held yet are
      // held for them; the rest go through flow control.
      standing: (now) => this.governance.standingAt(now),
      plan: chainPlans(
        (runId, _command, after, effects) => this.locks.plan(runId, after, effects),
        (runId, command, after, effects) => this.dispatch.plan(runId, command, after, effects),
      ),
    });
    ({
      effects: this.effects,
      governance: this.governance,
      correlator: this.correlator,
      children: this.children,
      locks: this.locks,
      lockStore: this.lockStore,
    } = effectHandlersOf({
      options,
      store: this.store,
      bus: this.bus,
      clock: this.clock,
      logger: this.logger,
      flow: this.flow,
      dispatch: this.dispatch,
      timers: this.timers,
      owns: (runId) => this.ownership.owns(runId),
      stopped: () => this.stopped,
      apply: (runId, command) => this.apply(runId, command, {}),
      execute: (runId, command, actor) => this.execute(runId, command, actor),
      getRun: (runId) => this.getRun(runId),
      loadFromStore: (runId) => this.loadFromStore(runId),
      resolve: (id, version, tenant) => this.definitions.resolve(id, version, tenant),
    }));
    this.rebalance = new Rebalance({
      store: this.store,
      commands: this.commands,
      effects: this.effects,
      flow: this.flow,
      dispatch: this.dispatch,
      ownership: this.ownership,
      readSide: this.readSide,
      governance: this.governance,
      timers: this.timers,
      logger: this.logger,
      children: this.children,
      locks: this.locks,
      stopped: () => this.stopped,
    });
    // Fires the schedules of the partitions this instance owns (all of them in one process).
    this.scheduler = schedulerOf(options.scheduleTickMs ?? DEFAULT_SCHEDULE_TICK_MS, {
      store: this.store,
      clock: this.clock,
      logger: this.logger,
      owns: (key) => this.ownership.owns(key),
      startRun: (request) => this.startRun(request),
      // A run that does not exist (its start failed) is not running.
      runActive: async (runId) => !isTerminalRun((await this.getRun(runId))?.status ?? 'completed'),
    });
    this.target = {
      execute: async (runId, command, actor, metadata) => {
        const { state, unapplied } = await this.apply(
          runId,
          withMetadata(command, this.clock.now(), actor),
          metadata ?? {},
        );
        return { state, unapplied };
      },
      startRun: (request) => this.startRun(request),
      refused: (order, error) => recordRefusal(this.store, order, error),
      resolveDefinition: (id, version, tenant) => this.definitions.resolve(id, version, tenant),
      governanceRuled: (decision) => this.governance.ruled(decision),
      logger: this.logger,
    };
  }

  /** Schedules in the store; the engines that own their partitions fire them. */
  get schedules(): ScheduleService {
    return (this.scheduleService ??= scheduleServiceOf(this.store, this.clock, () => this.definitions));
  }

  get index(): RunIndex {
    return this.readSide.index;
  }

  get definitions(): DefinitionRegistry {
    return this.readSide.definitions;
  }

  /**
   * The consumed topics whose messages may be handled side by side within a run: workers' reports and governance's
   * rulings, which the run's queue decides together in one append (ADR 44). Starts, operator commands and events
   * keep their order per run.
   */
  get unorderedTopics(): readonly string[] {
    return [Topics.stepEvents, Topics.governanceDecisions];
  }

  /** The topics whose messages `handle` takes. */
  get consumedTopics(): readonly string[] {
    return [
      Topics.workflowStarts,
      Topics.stepEvents,
      Topics.operatorCommands,
      Topics.externalEvents,
      ...(this.governanceOverBus ? [Topics.governanceDecisions] : []),
    ];
  }

  /**
   * Catches the read models up with the log, makes sure the command topic of every worker a known definition names
   * exists, then starts consuming (unless the host does). Runs in flight are recovered as their partitions are
   * assigned: in one process that is all of them, at once.
   */
  async start(): Promise<{ recovered: number }> {
    await this.readSide.follow();
    // Definitions registered before the broker knew their topics (another deployment, a restored store).
    await this.bus.ensureTopics(
      this.definitions.capture().flatMap((version) => commandTopicsOf(version.registered.definition)),
    );
    if (this.consume) {
      this.subscription = await this.bus.subscribe(
        {
          topics: this.consumedTopics,
          group: this.group,
          concurrency: 64,
          unorderedTopics: this.unorderedTopics,
          onAssigned: (partitions) => this.assign(partitions),
          onError: (error, message) =>
            this.logger.error('message rejected', {
              error: describeError(error),
              topic: message.topic,
              offset: message.offset,
              key: message.key,
            }),
        },
        (message) => this.handle(message),
      );
    }
    await this.rebalance.settled();
    // Releases what a crash left held; a start does not wait for a pass over the whole table.
    this.locks.reconcileInBackground();
    this.scheduler?.start();
    return { recovered: this.rebalance.recovered };
  }

  /** One message from a consumed topic. Throws on a malformed one, so the bus dead-letters it with the reason. */
  handle(message: DeliveredMessage): Promise<void> {
    if (message.topic === Topics.externalEvents)
      return handleExternalEventMessage((request) => this.sendEvent(request), message, this.logger);
    return handleRunMessage(this.target, message);
  }

  /** An event from outside: correlated in the store with the event steps waiting for it (see EventCorrelator). */
  sendEvent(request: SendEventRequest): Promise<SendEventResult> {
    return this.correlator.receive(request);
  }

  /** The group gave this instance a new set of partitions: see Rebalance. */
  assign(partitions: readonly TopicPartition[]): Promise<void> {
    return this.rebalance.assign(partitions);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.scheduler?.stop();
    this.timers.clear();
    this.governance.stop();
    this.dispatch.stop();
    await this.subscription?.close();
    await this.readSide.close();
    // A recovery still running would go on sending after the caller closes the bus.
    await this.rebalance.settled();
    await this.correlator.stop();
    await this.children.stop();
    await this.locks.stop();
    await this.commands.drained();
    this.timers.clear();
  }

  startRun(request: StartRunRequest): Promise<{ run: RunData; created: boolean }> {
    return startRun(
      {
        definitions: this.definitions,
        clock: this.clock,
        ids: this.ids,
        governed: this.governed,
        history: (runId) => this.history(runId),
        apply: (runId, command, metadata) => this.apply(runId, command, metadata),
      },
      request,
    );
  }

  /** Applies a command to a run; operator commands throw DomainError when they do not apply. */
  async execute(runId: string, command: RunCommand, actor?: string, keyId?: string): Promise<RunData> {
    const { state } = await this.apply(runId, withMetadata(command, this.clock.now(), actor), keyMetadata(keyId));
    return requireRun(runId, state);
  }

  awaitRun(runId: string, request: RunWaitRequest): Promise<RunWaitResult> {
    return this.readSide.waits.wait(runId, request);
  }

  listRuns(filter: RunFilter): Promise<RunSummary[]> {
    return this.index.list(filter);
  }

  countRuns(): RunCount[] {
    return this.index.countByStatus();
  }

  cachedSummary(runId: string): RunSummary | undefined {
    return this.index.get(runId);
  }

  async getRun(runId: string): Promise<RunData | null> {
    const { state } = await this.commands.load(runId);
    return isStarted(state) ? state : null;
  }

  async history(runId: string): Promise<RecordedEvent[]> {
    return this.store.readStream(runStream(runId));
  }

  followEvents(request: EventFeedRequest, handler: (event: FeedEvent) => void): Subscription {
    return followEventFeed(this.store, { ...request, after: request.after ?? this.readSide.index.position }, handler);
  }

  /** The run's state as of a revision: the fold of its stream up to there (guarantee 9). */
  async stateAt(runId: string, revision: number): Promise<RunState> {
    return replay(await this.store.readStream(runStream(runId), { maxCount: revision + 1 }));
  }

  /** Who holds and who waits for each lock, as the lock table's stream has it now. */
  async lockTable(filter: LockViewFilter): Promise<LockView[]> {
    return toLockViews(await this.lockStore.catchUp(), filter);
  }

  /** Whether this instance owns the partition of a key: a run id, or a schedule's scheduleOwnerKey. */
  owns(key: string): boolean {
    return this.ownership.owns(key);
  }

  get scheduledTimers(): number {
    return this.timers.size;
  }

  /** Governance checks waiting to be tried again (none may be left for a run that has ended). */
  get scheduledGovernanceRetries(): number {
    return this.governance.scheduledRetries;
  }

  private apply(runId: string, command: Command, metadata: Readonly<Record<string, string>>): Promise<Applied> {
    return this.commands.apply(runId, command, metadata, (state, effects) => this.effects.carryOut(state, effects));
  }

  /** From the store, not the cache: another instance may have moved the run on a moment ago. */
  private async loadFromStore(runId: string): Promise<RunState> {
    return replay(await this.store.readStream(runStream(runId)));
  }

  /** Whether the run is known to have ended (the read model, or the cache this instance drops ended runs from). */
  private ended(runId: string): boolean {
    const summary = this.index.get(runId);
    return summary !== undefined && isTerminalRun(summary.status) && !this.commands.isCached(runId);
  }

  private onTimer(runId: string, timer: Timer): void {
    if (this.stopped || !this.ownership.owns(runId)) return;
    void fireTimer(
      {
        logger: this.logger,
        still: (id) => !this.stopped && this.ownership.owns(id),
        fire: (id, t) =>
          withSpan('orchestrator timer', { runId: id, attributes: { 'orchestron.timer.id': t.id } }, () =>
            this.execute(id, { type: 'FireTimer', data: { timerId: t.id } }, 'system:timer'),
          ),
      },
      runId,
      timer,
    );
  }
}
