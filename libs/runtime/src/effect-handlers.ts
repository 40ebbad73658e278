import type { MessageBus } from '@orchestron/bus';
import { DEFAULT_EVENT_BUFFER_MS } from '@orchestron/bus';
import type { CompiledDefinition } from '@orchestron/definitions';
import type { EventStore } from '@orchestron/event-store';
import { isTerminalRun } from '@orchestron/workflow-core';
import type { Command, RunData, RunState } from '@orchestron/workflow-core';
import { ChildRuns } from './child-runs.ts';
import { EffectRunner } from './effect-runner.ts';
import type { EngineOptions } from './engine-options.ts';
import { EventCorrelator } from './event-correlator.ts';
import type { FlowControl } from './flow-control.ts';
import type { FlowDispatch } from './flow-dispatch.ts';
import { GovernanceClient } from './governance-client.ts';
import { LockTableStore } from './lock-table-store.ts';
import type { Clock, Logger } from './ports.ts';
import { ResourceLocks } from './resource-locks.ts';
import type { Applied } from './run-commands.ts';
import { withMetadata } from './run-requests.ts';
import type { RunCommand } from './run-service.ts';
import type { TimerWheel } from './timers.ts';

/** What the parts that carry out effects need of the engine around them. */
export interface EffectHandlersDeps {
  readonly options: Pick<EngineOptions, 'governance' | 'governanceRetry' | 'eventBufferMs'>;
  readonly store: EventStore;
  readonly bus: MessageBus;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly flow: FlowControl;
  readonly dispatch: FlowDispatch;
  readonly timers: TimerWheel;
  readonly owns: (runId: string) => boolean;
  readonly stopped: () => boolean;
  /** Applies a command to a run: decide, append, carry out. */
  readonly apply: (runId: string, command: Command) => Promise<Applied>;
  /** Applies a runtime command as an actor, throwing RUN.NOT_FOUND for a run that does not exist. */
  readonly execute: (runId: string, command: RunCommand, actor: string) => Promise<RunData>;
  /** The run as this instance has it (its cache). */
  readonly getRun: (runId: string) => Promise<RunData | null>;
  /** The run as its stream has it now. */
  readonly loadFromStore: (runId: string) => Promise<RunState>;
  readonly resolve: (id: string, version: number | 'latest', tenant: string) => Promise<CompiledDefinition>;
}

/** The EffectRunner and the parts it hands effects to; the engine stops them, and recovery repeats their work. */
export interface EffectHandlers {
  readonly effects: EffectRunner;
  readonly governance: GovernanceClient;
  readonly correlator: EventCorrelator;
  readonly children: ChildRuns;
  readonly locks: ResourceLocks;
  readonly lockStore: LockTableStore;
}

/**
 * Builds what carries out a decision's effects: sends (EffectRunner), governance checks, event waits correlated in
 * the store, child runs, and resource locks. The last three coordinate a run with others through the store's
 * optimistic concurrency (ADRs 29, 32 and 37), so they read the other run from its stream, never from the cache.
 */
export function effectHandlersOf(deps: EffectHandlersDeps): EffectHandlers {
  const { options, store, bus, clock, logger, apply } = deps;
  const governance = new GovernanceClient({
    check: options.governance,
    bus,
    clock,
    logger,
    stopped: deps.stopped,
    record: async (runId, stepId, verdict, inputDigest, actor) => {
      const command: RunCommand = { type: 'RecordGovernanceDecision', data: { stepId, ...verdict, inputDigest } };
      await deps.execute(runId, command, actor ?? 'system:governance');
    },
    stillWaiting: async (runId, stepId) => {
      const run = await deps.getRun(runId);
      return (
        run !== null &&
        !isTerminalRun(run.status) &&
        run.steps[stepId]?.status === 'waiting_governance' &&
        deps.owns(runId)
      );
    },
    ...(options.governanceRetry ? { retry: options.governanceRetry } : {}),
  });
  const correlator = new EventCorrelator({
    store,
    clock,
    logger,
    bufferMs: options.eventBufferMs ?? DEFAULT_EVENT_BUFFER_MS,
    waits: async ({ runId, stepId, since }, name, key) => {
      const step = (await deps.getRun(runId))?.steps[stepId];
      return step?.status === 'waiting_event' && step.event === name && step.key === key && step.since === since;
    },
    deliver: async ({ runId }, event, actor) => {
      await apply(runId, withMetadata({ type: 'DeliverEvent', data: event }, clock.now(), actor));
    },
  });
  const children = new ChildRuns({
    clock,
    logger,
    governed: options.governance !== undefined,
    resolve: deps.resolve,
    load: deps.loadFromStore,
    apply,
  });
  const lockStore = new LockTableStore(store);
  const locks = new ResourceLocks({ table: lockStore, clock, logger, apply, load: deps.loadFromStore });
  const effects = new EffectRunner({
    bus,
    flow: deps.flow,
    dispatch: deps.dispatch,
    governance,
    timers: deps.timers,
    owns: deps.owns,
    logger,
    awaitEvent: (state, { stepId, event, key, since }) =>
      correlator.awaitInBackground({ tenant: state.tenant, runId: state.runId, stepId, since, name: event, key }),
    children,
    locks,
  });
  return { effects, governance, correlator, children, locks, lockStore };
}
