import { quoteForMessage } from '@orchestron/definitions';
import { randomUUID } from 'node:crypto';
import { Topics } from '@orchestron/bus';
import type { BusSubscription, DeliveredMessage, MessageBus, StepCommandMessage, TopicPartition } from '@orchestron/bus';
import { ExpectedVersionConflictError } from '@orchestron/event-store';
import type { EventStore, RecordedEvent, Subscription } from '@orchestron/event-store';
import { DEFAULT_TENANT, DomainError, decide, evolve, initialState, isStarted, isTerminalRun } from '@orchestron/workflow-core';
import type { Command, RunData, RunState, Timer, WorkflowEvent } from '@orchestron/workflow-core';
import { withSpan } from '@orchestron/telemetry';
import { sameJson } from './bus-commands.ts';
import { readLogFrom, replay } from './replay.ts';
import { handleRunMessage } from './run-messages.ts';
import type { MessageTarget } from './run-messages.ts';
import { DefinitionRegistry } from './definition-registry.ts';
import type { VersionChoice } from './definition-registry.ts';
import { attemptKey, commandMessage, runIdForKey, traceparentInRun } from './dispatch-messages.ts';
import type { SendData } from './dispatch-messages.ts';
import { GovernanceClient } from './governance-client.ts';
import type { GovernanceRetry } from './governance-client.ts';
import { FlowControl } from './flow-control.ts';
import type { FlowControlSettings, FlowSnapshot, HeldAttempt } from './flow-control.ts';
import { PartitionOwnership } from './ownership.ts';
import { systemClock, silentLogger } from './ports.ts';
import type { Clock, GovernanceCheck, Ids, Logger } from './ports.ts';
import { RunIndex, runStream } from './run-index.ts';
import type { RunFilter, RunSummary } from './run-index.ts';
import type { RunService } from './run-service.ts';
import { TimerWheel } from './timers.ts';

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
}

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
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
export type RunCommand = DistributiveOmit<Exclude<Command, { type: 'StartRun' }>, 'metadata'>;

interface Loaded {
  readonly state: RunState;
  readonly revision: number | null;
}

const CONFLICT_RETRIES = 8;
const RELEASE_RETRY_MS = 1_000;


/**
 * The orchestrator: decide → append → dispatch. It is the only writer of run streams; every decision is in
 * the stream before anything leaves for a worker, and on start it re-sends whatever was decided but may not
 * have left (workers drop what they have already done, by idempotency key).
 */
export class Engine implements RunService {
  readonly index = new RunIndex();
  readonly definitions: DefinitionRegistry;
  private readonly store: EventStore;
  private readonly bus: MessageBus;
  private readonly clock: Clock;
  private readonly ids: Ids;
  private readonly governance: GovernanceCheck | 'bus' | undefined;
  private readonly ownership: PartitionOwnership;
  private readonly consume: boolean;
  private readonly extraMetadata: Readonly<Record<string, string>>;
  private readonly observer: EngineOptions['observer'];
  readonly flow: FlowControl;
  private readonly flowTimers = new Map<string, ReturnType<typeof setTimeout>>();
  private assignment: Promise<void> = Promise.resolve();
  private recovered = 0;
  private readonly logger: Logger;
  private readonly group: string;
  private readonly cache = new Map<string, Loaded & { state: RunData }>();
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly timers: TimerWheel;
  private readonly governanceClient: GovernanceClient;
  private readonly messageTarget: MessageTarget;
  private subscriptions: (Subscription | BusSubscription)[] = [];
  private stopped = false;

  constructor(options: EngineOptions) {
    this.store = options.store;
    this.bus = options.bus;
    this.clock = options.clock ?? systemClock;
    this.ids = options.ids ?? { newRunId: () => randomUUID() };
    this.governance = options.governance;
    this.logger = options.logger ?? silentLogger;
    this.group = options.group ?? Topics.group('orchestron-orchestrator');
    this.ownership = new PartitionOwnership(this.bus);
    this.consume = options.consume ?? true;
    this.extraMetadata = options.metadata ?? {};
    this.observer = options.observer;
    this.messageTarget = {
      execute: async (runId, command, actor, metadata) => {
        const { state, events } = await this.executeFull(runId, withMetadata(command, this.clock.now(), actor), metadata ?? {});
        if (!isStarted(state)) throw new DomainError('RUN.NOT_FOUND', `run ${quoteForMessage(runId)} does not exist`, { runId });
        return { state, changed: events.length > 0 };
      },
      startRun: (request) => this.startRun(request),
      resolveDefinition: (id, version, tenant) => this.definitions.resolve(id, version, tenant),
      logger: this.logger,
    };
    this.governanceClient = new GovernanceClient({
      check: this.governance, bus: this.bus, clock: this.clock, logger: this.logger, stopped: () => this.stopped,
      record: async (runId, stepId, verdict, inputDigest) => {
        await this.execute(runId, { type: 'RecordGovernanceDecision', data: { stepId, ...verdict, inputDigest } }, 'system:governance');
      },
      stillWaiting: async (runId, stepId) => {
        const run = await this.getRun(runId);
        return run !== null && !isTerminalRun(run.status) && run.steps[stepId]?.status === 'waiting_governance' && this.ownership.owns(runId);
      },
      ...(options.governanceRetry ? { retry: options.governanceRetry } : {}),
    });
    this.flow = new FlowControl(options.flowControl ?? {}, () => this.clock.now(), options.onFlowChange);
    this.definitions = new DefinitionRegistry(this.store);
    this.timers = new TimerWheel(() => this.clock.now(), (runId, timer) => this.onTimer(runId, timer));
  }

  /** The topics whose messages `handle` takes. */
  get consumedTopics(): readonly string[] {
    return [Topics.workflowStarts, Topics.stepEvents, Topics.operatorCommands, ...(this.governance === 'bus' ? [Topics.governanceDecisions] : [])];
  }

  /**
   * Catches the read models up with the log, then starts consuming (unless the host does). Runs in flight are
   * recovered as their partitions are assigned: in one process that is all of them, at once.
   */
  async start(): Promise<{ recovered: number }> {
    await this.catchUp();
    this.subscriptions.push(this.store.subscribeToAll({ after: this.index.position }, (event) => this.project(event)));
    if (this.consume) {
      this.subscriptions.push(
        await this.bus.subscribe({
          topics: this.consumedTopics, group: this.group, concurrency: 64,
          onAssigned: (partitions) => this.assign(partitions),
          onError: (error, message) => this.logger.error('message rejected', { error: describe(error), topic: message.topic, offset: message.offset, key: message.key }),
        }, (message) => this.handle(message)),
      );
    }
    await this.assignment;
    return { recovered: this.recovered };
  }

  /** One message from a consumed topic. Throws on a malformed one, so the bus dead-letters it with the reason. */
  handle(message: DeliveredMessage): Promise<void> {
    return handleRunMessage(this.messageTarget, message);
  }

  /**
   * The group gave this instance a new set of partitions. Runs it no longer owns lose their timers here (their
   * new owner arms them); runs it now owns are recovered from their streams, once the read model has caught up
   * with everything the previous owner wrote.
   */
  assign(partitions: readonly TopicPartition[]): Promise<void> {
    this.assignment = this.assignment.then(async () => {
      const gained = this.ownership.update(partitions);
      await this.catchUp();
      const active = this.index.active();
      const freed = new Set<string>();
      for (const run of active) {
        if (this.ownership.owns(run.id)) continue;
        this.timers.sync(run.id, {});
        this.governanceClient.forget(run.id);
        this.cache.delete(run.id);
        for (const worker of this.forgetFlow(run.id)) freed.add(worker);
      }
      for (const worker of freed) this.drainLater(worker);
      // Only runs on partitions new to this instance: the ones it kept are live here already.
      const mine = active.filter((run) => gained.has(this.ownership.partitionOf(run.id)));
      for (const run of mine) await this.recover(run.id);
      this.recovered += mine.length;
      this.logger.info('partitions assigned', { partitions: this.ownership.describe(), gained: [...gained].sort((a, b) => a - b), activeRuns: active.length, recovered: mine.length });
    }).catch((error: unknown) => {
      this.logger.error('recovery after an assignment failed', { error: describe(error) });
    });
    return this.assignment;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.timers.clear();
    this.governanceClient.stop();
    for (const timer of this.flowTimers.values()) clearTimeout(timer);
    this.flowTimers.clear();
    for (const sub of this.subscriptions.splice(0)) await sub.close();
    // A recovery still running would go on sending after the caller closes the bus.
    await this.assignment;
    await Promise.allSettled([...this.queues.values()]);
    this.timers.clear();
  }

  async startRun(request: StartRunRequest): Promise<{ run: RunData; created: boolean }> {
    const tenant = request.tenant ?? DEFAULT_TENANT;
    const definition = request.definition !== undefined
      ? (await this.definitions.register(request.definition, request.actor, tenant, request.keyId)).definition
      : this.definitions.get(requireString(request.definitionId, 'definitionId'), request.definitionVersion ?? 'latest', tenant);
    const runId = request.idempotencyKey !== undefined ? runIdForKey(definition.id, request.idempotencyKey, tenant) : this.ids.newRunId();
    const data = {
      runId, definition, input: request.input ?? null, tenant, governEveryStep: this.governance !== undefined,
      ...(request.idempotencyKey !== undefined ? { idempotencyKey: request.idempotencyKey } : {}),
    };
    const command: Command = { type: 'StartRun', data, metadata: { now: this.clock.now(), actor: request.actor } };
    // Inside the run's trace from its first event, whoever asked (HTTP in one process, a Kafka start message here too).
    const { state, events } = await withSpan('start run', { runId, attributes: { 'orchestron.definition.id': definition.id } }, () => this.executeFull(runId, command, keyMetadata(request.keyId)));
    if (!isStarted(state)) throw new Error('run did not start');
    if (events.length === 0 && !sameJson(state.input, request.input)) {
      throw new DomainError('RUN.ALREADY_EXISTS', `idempotency key ${quoteForMessage(String(request.idempotencyKey))} was already used for run ${runId} with a different input`, { runId });
    }
    return { run: state, created: events.length > 0 };
  }

  /** Applies a command to a run; operator commands throw DomainError when they do not apply. */
  async execute(runId: string, command: RunCommand, actor?: string, keyId?: string): Promise<RunData> {
    return this.executeAs(runId, command, actor, keyMetadata(keyId));
  }

  private async executeAs(runId: string, command: RunCommand, actor: string | undefined, metadata: Readonly<Record<string, string>>): Promise<RunData> {
    const { state } = await this.executeFull(runId, withMetadata(command, this.clock.now(), actor), metadata);
    if (!isStarted(state)) throw new DomainError('RUN.NOT_FOUND', `run ${quoteForMessage(runId)} does not exist`, { runId });
    return state;
  }

  listRuns(filter: RunFilter): RunSummary[] {
    return this.index.list(filter);
  }

  async getRun(runId: string): Promise<RunData | null> {
    const { state } = await this.load(runId);
    return isStarted(state) ? state : null;
  }

  async history(runId: string): Promise<RecordedEvent[]> {
    return this.store.readStream(runStream(runId));
  }

  /** The run's state as of a revision: the fold of its stream up to there (guarantee 9). */
  async stateAt(runId: string, revision: number): Promise<RunState> {
    const events = await this.store.readStream(runStream(runId), { maxCount: revision + 1 });
    return replay(events);
  }

  get scheduledTimers(): number {
    return this.timers.size;
  }

  /** Governance checks waiting to be tried again (none may be left for a run that has ended). */
  get scheduledGovernanceRetries(): number {
    return this.governanceClient.scheduledRetries;
  }

  /** Reads the global log past what the read models have seen. */
  private async catchUp(): Promise<void> {
    await readLogFrom(this.store, () => this.index.position, (event) => this.project(event));
  }

  private project(event: RecordedEvent): void {
    this.index.apply(event);
    this.definitions.apply(event);
    if (event.streamId.startsWith('run-')) this.noticeForeignWrite(event);
  }

  /**
   * Another instance wrote to a run this one owns (it handled a message for a partition that had just moved,
   * or served a direct call): this instance's cached state is stale and the run's timers may have changed.
   */
  private noticeForeignWrite(event: RecordedEvent): void {
    const runId = event.streamId.slice('run-'.length);
    if (this.stopped || (this.cache.get(runId)?.revision ?? -1) >= event.revision) return;
    const summary = this.index.get(runId);
    if (!this.ownership.owns(runId) || (summary !== undefined && isTerminalRun(summary.status))) {
      // Not ours, or over: nothing to arm, and no reason to read the stream.
      this.cache.delete(runId);
      if (summary !== undefined && isTerminalRun(summary.status)) {
        this.timers.sync(runId, {});
        this.governanceClient.forget(runId);
      }
      return;
    }
    void this.serial(runId, async () => {
      const cached = this.cache.get(runId);
      if (cached && (cached.revision ?? -1) >= event.revision) return;
      this.cache.delete(runId);
      const { state } = await this.load(runId);
      this.timers.sync(runId, isStarted(state) && !isTerminalRun(state.status) && this.ownership.owns(runId) ? state.timers : {});
    }).catch((error: unknown) => this.logger.error('could not refresh a run another instance wrote', { runId, error: describe(error) }));
  }

  private serial<T>(runId: string, work: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(runId) ?? Promise.resolve();
    const next = previous.then(work, work);
    const tail = next.catch(() => undefined);
    this.queues.set(runId, tail);
    void tail.then(() => {
      if (this.queues.get(runId) === tail) this.queues.delete(runId);
    });
    return next;
  }

  /** Decides and appends in the run's queue; on a conflict with another writer, loads the run again and decides again. */
  private executeFull(runId: string, command: Command, metadata: Readonly<Record<string, string>> = {}): Promise<{ state: RunState; events: WorkflowEvent[] }> {
    return this.serial(runId, async () => {
      for (let attempt = 0; ; attempt++) {
        const { state, revision } = await this.load(runId);
        const events = decide(command, state);
        if (events.length === 0) return { state, events };
        let nextRevision: number;
        try {
          nextRevision = (await this.store.append(runStream(runId), events.map((e) => ({ type: e.type, data: e.data, metadata: { ...eventMetadata(command), ...this.extraMetadata, ...metadata } })), { expectedRevision: revision ?? 'no_stream' })).nextExpectedRevision;
        } catch (error) {
          // Another writer got there first: reload and decide again on the state it left.
          if (!(error instanceof ExpectedVersionConflictError) || attempt >= CONFLICT_RETRIES) throw error;
          this.cache.delete(runId);
          continue;
        }
        const next = events.reduce(evolve, state) as RunData;
        this.remember(runId, next, nextRevision);
        try {
          this.observer?.(state, next, events);
        } catch (error) {
          this.logger.error('the engine observer failed; the run goes on', { runId, error: describe(error) });
        }
        await this.interpret(next, events);
        return { state: next, events };
      }
    });
  }

  private async load(runId: string): Promise<Loaded> {
    const cached = this.cache.get(runId);
    if (cached) return cached;
    const events = await this.store.readStream(runStream(runId));
    const state = replay(events);
    const revision = events.length > 0 ? (events[events.length - 1] as RecordedEvent).revision : null;
    if (isStarted(state)) this.remember(runId, state, revision as number);
    return { state, revision };
  }

  private remember(runId: string, state: RunData, revision: number): void {
    if (isTerminalRun(state.status)) this.cache.delete(runId);
    else this.cache.set(runId, { state, revision });
  }

  /** Does what the new events ask for. Everything here is safe to repeat: recovery repeats it. */
  private async interpret(state: RunData, events: readonly WorkflowEvent[]): Promise<void> {
    const dispatches = new Map<string, { key: string; value: StepCommandMessage; headers: Record<string, string> }[]>();
    const send = (d: SendData): void => {
      const topic = Topics.commands(d.worker);
      const list = dispatches.get(topic) ?? [];
      list.push({ key: state.runId, value: commandMessage(state, d), headers: { traceparent: traceparentInRun(state.runId, d.idempotencyKey) } });
      dispatches.set(topic, list);
    };
    const touched = new Set<string>();
    const owned = this.ownership.owns(state.runId);
    const finished = (phase: 'execute' | 'compensate', stepId: string, attempt: number, error: { retryable: boolean } | null): void => {
      // A terminal (business) error comes from a worker that works: only retryable failures and timeouts count against it.
      const worker = this.flow.finished(attemptKey(state.runId, phase, stepId, attempt), error === null || !error.retryable);
      if (worker) touched.add(worker);
    };
    for (const event of events) {
      switch (event.type) {
        case 'StepDispatched': {
          // Flow control counts the runs this instance owns; a message handled here while a partition moves goes out as is.
          const gate = owned ? this.flow.request(event.data.worker, attemptKey(state.runId, event.data.phase, event.data.stepId, event.data.attempt)) : { admitted: true as const };
          if (gate.admitted) {
            send(event.data);
            this.logger.info('step dispatched', { runId: state.runId, stepId: event.data.stepId, attempt: event.data.attempt, phase: event.data.phase, worker: event.data.worker });
          }
          else this.holdAttempt({ runId: state.runId, stepId: event.data.stepId, attempt: event.data.attempt, phase: event.data.phase, worker: event.data.worker }, gate.reason);
          break;
        }
        case 'StepReleased':
          if (event.data.send) send({ ...event.data, timeoutAt: event.data.timeoutAt });
          break;
        case 'StepCompleted':
          finished('execute', event.data.stepId, event.data.attempt, null);
          break;
        case 'StepAttemptFailed':
          finished(event.data.phase, event.data.stepId, event.data.attempt, event.data.error);
          break;
        case 'StepFailed':
          finished('execute', event.data.stepId, event.data.attempt, event.data.error);
          break;
        case 'CompensationCompleted':
          finished('compensate', event.data.stepId, event.data.attempt, null);
          break;
        case 'CompensationFailed':
          finished('compensate', event.data.stepId, event.data.attempt, event.data.error);
          break;
        case 'GovernanceCheckRequested':
          this.governanceClient.request(state, event.data.stepId, event.data.input);
          break;
        case 'ApprovalRequested':
          this.logger.info('approval requested', { runId: state.runId, stepId: event.data.stepId, message: event.data.message });
          break;
        case 'RunNeedsOperator':
          this.logger.warn('run needs an operator', { runId: state.runId, stepId: event.data.stepId, code: event.data.code, message: event.data.message });
          break;
        default:
          break;
      }
    }
    if (isTerminalRun(state.status)) {
      for (const worker of this.forgetFlow(state.runId)) touched.add(worker);
      // Every per-run loop ends with the run: a governance retry would otherwise fire for a cancelled run.
      this.governanceClient.forget(state.runId);
    }
    // An attempt that is no longer out (skipped, its run compensating, …) frees its slot without an outcome.
    else for (const worker of this.flow.abandonWhere(state.runId, (phase, stepId, attempt) => !attemptIsOut(state, phase, stepId, attempt))) touched.add(worker);
    // Timers belong to the run's owner; another instance that handled a message for it leaves them alone.
    this.timers.sync(state.runId, isTerminalRun(state.status) || !this.ownership.owns(state.runId) ? {} : state.timers);
    await Promise.all([...dispatches].map(([topic, messages]) => this.bus.publish(topic, messages)));
    for (const worker of touched) this.drainLater(worker);
  }

  /** The gate refused an attempt that has not left: record the hold (its timers stop) and queue it. */
  private holdAttempt(held: HeldAttempt, reason: 'breaker_open' | 'concurrency_limit'): void {
    this.flow.hold(held);
    // Recorded after the current decision is appended (same run, same queue), before any release.
    this.execute(held.runId, { type: 'HoldStep', data: { stepId: held.stepId, attempt: held.attempt, phase: held.phase, reason, worker: held.worker } }, 'system:flow-control')
      .catch((error: unknown) => this.logger.error('could not record a held attempt', { runId: held.runId, stepId: held.stepId, attempt: held.attempt, error: describe(error) }));
    this.logger.warn('attempt held by flow control', { runId: held.runId, stepId: held.stepId, attempt: held.attempt, worker: held.worker, reason });
    this.drainLater(held.worker);
  }

  /** Releases what the worker's gate lets through now, and checks again when an open breaker may half-open. */
  private drainLater(worker: string): void {
    if (this.stopped) return;
    clearTimeout(this.flowTimers.get(worker));
    this.flowTimers.delete(worker);
    for (const held of this.flow.releasable(worker, (h) => attemptKey(h.runId, h.phase, h.stepId, h.attempt))) {
      const key = attemptKey(held.runId, held.phase, held.stepId, held.attempt);
      this.executeFull(held.runId, { type: 'ReleaseStep', data: { stepId: held.stepId, attempt: held.attempt, phase: held.phase }, metadata: { now: this.clock.now(), actor: 'system:flow-control' } } as Command)
        .then(({ events }) => {
          if (!events.some((e) => e.type === 'StepReleased')) {
            this.flow.abandoned(key);
            this.drainLater(worker);
          }
        }, (error: unknown) => {
          // Still held in its stream: queue it again and try later, or it would wait until a restart. Not once the run
          // has ended, though: its hold is over, and a retry would only repeat the failure.
          this.flow.abandoned(key);
          if (this.ended(held.runId)) return;
          this.flow.hold(held);
          this.logger.error('could not release a held attempt; trying again', { runId: held.runId, stepId: held.stepId, error: describe(error) });
          if (!this.stopped) this.flowTimers.set(worker, setTimeout(() => this.drainLater(worker), RELEASE_RETRY_MS));
        });
    }
    const next = this.flow.nextCheck(worker);
    if (next !== null) this.flowTimers.set(worker, setTimeout(() => this.drainLater(worker), Math.max(10, next - this.clock.now())));
  }

  /** Whether the run is known to have ended (the read model, or the cache this instance drops ended runs from). */
  private ended(runId: string): boolean {
    const summary = this.index.get(runId);
    return summary !== undefined && isTerminalRun(summary.status) && !this.cache.has(runId);
  }

  /** Drops a run's attempts from flow control (it ended, or moved to another instance); returns the workers it freed. */
  private forgetFlow(runId: string): string[] {
    this.flow.forgetRun(runId);
    return this.flow.abandonRun(runId);
  }

  /** Re-sends attempts that are out, re-asks governance, and re-arms timers, from the stored state alone. */
  private async recover(runId: string): Promise<void> {
    await this.serial(runId, async () => {
      const events = await this.store.readStream(runStream(runId));
      let state = initialState();
      const lastDispatch = new Map<string, Extract<WorkflowEvent, { type: 'StepDispatched' }>>();
      const lastCheck = new Map<string, Extract<WorkflowEvent, { type: 'GovernanceCheckRequested' }>>();
      for (const recorded of events) {
        const event = { type: recorded.type, data: recorded.data } as WorkflowEvent;
        state = evolve(state, event);
        if (event.type === 'StepDispatched') lastDispatch.set(`${event.data.phase}/${event.data.stepId}`, event);
        if (event.type === 'GovernanceCheckRequested') lastCheck.set(event.data.stepId, event);
      }
      if (!isStarted(state) || isTerminalRun(state.status)) return;
      this.remember(runId, state, (events[events.length - 1] as RecordedEvent).revision);
      const outstanding: WorkflowEvent[] = [];
      for (const dispatch of lastDispatch.values()) {
        const { phase, stepId, attempt, worker } = dispatch.data;
        const current = phase === 'execute' ? state.steps[stepId] : state.compensations[stepId];
        if (current?.status !== 'running' || current.attempt !== attempt) continue;
        if (current.held) {
          this.flow.hold({ runId, stepId, attempt, phase, worker });
          continue;
        }
        // It left before this instance took the run over: it counts against the worker's limit, without asking.
        this.flow.track(worker, attemptKey(runId, phase, stepId, attempt));
        outstanding.push(dispatch);
      }
      for (const step of Object.values(state.steps)) {
        const asked = lastCheck.get(step.id);
        if (step.status === 'waiting_governance' && asked) outstanding.push(asked);
      }
      await this.interpret(state, outstanding);
      for (const worker of this.flow.workersWithHeld()) this.drainLater(worker);
      this.logger.info('run recovered', { runId, status: state.status, resent: outstanding.length, timers: Object.keys(state.timers).length });
    });
  }

  private onTimer(runId: string, timer: Timer): void {
    if (this.stopped || !this.ownership.owns(runId)) return;
    withSpan('orchestrator timer', { runId, attributes: { 'orchestron.timer.id': timer.id } }, () => this.execute(runId, { type: 'FireTimer', data: { timerId: timer.id } }, 'system:timer')).catch((error: unknown) => {
      this.logger.error('timer failed', { runId, timerId: timer.id, error: describe(error) });
    });
  }
}

/** Whether the attempt is the one out for its step (held or not), so its slot is still taken. */
function attemptIsOut(state: RunData, phase: string, stepId: string, attempt: number): boolean {
  const current = phase === 'compensate' ? state.compensations[stepId] : state.steps[stepId];
  return current?.status === 'running' && current.attempt === attempt;
}

function eventMetadata(command: Command): Record<string, unknown> {
  return { at: new Date(command.metadata.now).toISOString(), command: command.type, ...(command.metadata.actor ? { actor: command.metadata.actor } : {}) };
}

function withMetadata(command: RunCommand, now: number, actor: string | undefined): Command {
  return { ...command, metadata: { now, ...(actor !== undefined ? { actor } : {}) } } as Command;
}

/** Which API key asked, in the events it caused: its id, never its secret. */
function keyMetadata(keyId: string | undefined): Record<string, string> {
  return keyId === undefined ? {} : { keyId };
}

function requireString(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new DomainError('COMMAND.INVALID', `${field} is required (or give an inline definition)`, { field });
  return value;
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
