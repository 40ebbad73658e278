import type { EventStore, RecordedEvent } from '@orchestron/event-store';
import { isStarted, isTerminalRun, outstanding } from '@orchestron/workflow-core';
import type { Effect, WorkflowEvent } from '@orchestron/workflow-core';
import { attemptKey } from './dispatch-messages.ts';
import type { ChildRuns } from './child-runs.ts';
import type { EffectRunner } from './effect-runner.ts';
import type { FlowControl } from './flow-control.ts';
import type { FlowDispatch } from './flow-dispatch.ts';
import type { Logger } from './ports.ts';
import type { ResourceLocks } from './resource-locks.ts';
import type { RunCommands } from './run-commands.ts';
import { runStream } from './run-index.ts';

export interface RecoveryDeps {
  readonly store: EventStore;
  readonly commands: RunCommands;
  readonly effects: EffectRunner;
  readonly flow: FlowControl;
  readonly dispatch: FlowDispatch;
  readonly logger: Logger;
  readonly children: ChildRuns;
  readonly locks: ResourceLocks;
}

/**
 * Takes a run over from its stream alone: re-sends the attempts that are out, re-asks governance, re-arms timers,
 * queues held attempts for release, asks again after the child runs it waits for, and cancels a child whose parent
 * no longer waits for it. What to do again is the domain's answer (`outstanding`).
 */
export async function recoverRun(deps: RecoveryDeps, runId: string): Promise<void> {
  const { store, commands, effects, flow, dispatch, logger, children, locks } = deps;
  await commands.serial(runId, async () => {
    const recorded = await store.readStream(runStream(runId));
    const {
      state,
      sends,
      asks,
      awaits,
      children: waitedFor,
    } = outstanding(recorded.map((e) => ({ type: e.type, data: e.data }) as WorkflowEvent));
    if (!isStarted(state) || isTerminalRun(state.status)) return;
    commands.remember(runId, state, (recorded[recorded.length - 1] as RecordedEvent).revision);
    const again: Effect[] = [...asks, ...awaits, ...waitedFor];
    children.closeIfOrphaned(state);
    for (const { data, held } of sends) {
      if (held?.reason === 'lock') {
        // The table answers from what it has: a wait goes on, a grant whose release was lost releases now.
        locks.request(
          { tenant: state.tenant, runId, stepId: data.stepId, phase: data.phase },
          data.attempt,
          data.locks ?? [],
        );
        continue;
      }
      if (held) {
        const { stepId, attempt, phase, worker } = data;
        flow.hold({ runId, stepId, attempt, phase, worker, reason: held.reason });
        continue;
      }
      // It left before this instance took the run over: it counts against the worker's limit, without asking.
      flow.track(data.worker, attemptKey(runId, data.phase, data.stepId, data.attempt));
      again.push({ type: 'SendStep', data });
    }
    await effects.carryOut(state, again);
    for (const worker of flow.workersWithHeld()) dispatch.drainLater(worker);
    logger.info('run recovered', {
      runId,
      status: state.status,
      resent: again.length,
      timers: Object.keys(state.timers).length,
    });
  });
}
