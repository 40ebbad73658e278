import { Topics } from '@orchestron/bus';
import type { MessageBus, StepCommandMessage } from '@orchestron/bus';
import { attemptIsOut, isTerminalRun } from '@orchestron/workflow-core';
import type { Effect, Phase, RunData } from '@orchestron/workflow-core';
import { attemptKey, commandMessage, traceparentInRun } from './dispatch-messages.ts';
import type { ChildRuns } from './child-runs.ts';
import type { FlowControl } from './flow-control.ts';
import type { FlowDispatch } from './flow-dispatch.ts';
import type { GovernanceClient } from './governance-client.ts';
import type { Logger } from './ports.ts';
import type { ResourceLocks } from './resource-locks.ts';
import type { TimerWheel } from './timers.ts';

export interface EffectRunnerOptions {
  readonly bus: MessageBus;
  readonly flow: FlowControl;
  readonly dispatch: FlowDispatch;
  readonly governance: GovernanceClient;
  readonly timers: TimerWheel;
  readonly owns: (runId: string) => boolean;
  readonly logger: Logger;
  /** An event step began waiting: correlate it (in the background: it may hand the run an event, in its queue). */
  readonly awaitEvent: (state: RunData, wait: Extract<Effect, { type: 'AwaitEvent' }>['data']) => void;
  /** Starts, cancels and compensates child runs, and reports a child's end to its parent (in the background). */
  readonly children: ChildRuns;
  /** Lets a step's locks go when it ends (in the background). */
  readonly locks: ResourceLocks;
}

type Outgoing = { key: string; value: StepCommandMessage; headers: Record<string, string> };

/**
 * Carries out what a decision asked for. It looks at effects and at the run's state (its timers, which attempts
 * are out), never at events. Everything here is safe to repeat: recovery repeats it.
 */
export class EffectRunner {
  private readonly options: EffectRunnerOptions;

  constructor(options: EffectRunnerOptions) {
    this.options = options;
  }

  async carryOut(state: RunData, effects: readonly Effect[]): Promise<void> {
    const { flow, dispatch, governance, timers, owns, logger } = this.options;
    const outgoing = new Map<string, Outgoing[]>();
    const touched = new Set<string>();
    for (const effect of effects) {
      switch (effect.type) {
        case 'SendStep': {
          const d = effect.data;
          const topic = Topics.commands(d.worker);
          const batch = outgoing.get(topic) ?? [];
          batch.push({
            key: state.runId,
            value: commandMessage(state, d),
            headers: { traceparent: traceparentInRun(state.runId, d.idempotencyKey) },
          });
          outgoing.set(topic, batch);
          logger.info('step dispatched', {
            runId: state.runId,
            stepId: d.stepId,
            attempt: d.attempt,
            phase: d.phase,
            worker: d.worker,
          });
          break;
        }
        case 'AskGovernance':
          governance.request(state, effect.data.stepId, effect.data.input);
          break;
        case 'AwaitEvent':
          this.options.awaitEvent(state, effect.data);
          break;
        case 'StartChild':
          this.options.children.start(state, effect.data);
          break;
        case 'CancelChild':
          this.options.children.cancel(state, effect.data.stepId, effect.data.childRunId);
          break;
        case 'CompensateChild':
          this.options.children.compensate(state, effect.data.stepId, effect.data.childRunId);
          break;
        case 'ReportToParent': {
          const { parentRunId, ...outcome } = effect.data;
          this.options.children.reportToParent(parentRunId, outcome);
          break;
        }
        case 'Notify':
          if (effect.data.kind === 'approval_requested' || effect.data.kind === 'approval_escalated')
            logger.info(effect.data.kind === 'approval_requested' ? 'approval requested' : 'approval escalated', {
              runId: state.runId,
              stepId: effect.data.stepId,
              assignees: effect.data.assignees,
              message: effect.data.message,
            });
          else
            logger.warn('run needs an operator', {
              runId: state.runId,
              stepId: effect.data.stepId,
              code: effect.data.code,
              message: effect.data.message,
            });
          break;
        case 'AttemptSettled': {
          const { phase, stepId, attempt, workerFailed } = effect.data;
          const worker = flow.finished(attemptKey(state.runId, phase, stepId, attempt), !workerFailed);
          if (worker) touched.add(worker);
          break;
        }
        case 'ReleaseLocks':
          this.options.locks.release(state, effect.data.stepId, effect.data.phase);
          break;
        case 'RunEnded':
          for (const worker of dispatch.forgetRun(state.runId)) touched.add(worker);
          // Every per-run loop ends with the run: a governance retry would otherwise fire for a cancelled run.
          governance.forget(state.runId);
          break;
        default:
          assertNever(effect);
      }
    }
    // An attempt that is no longer out (skipped, its run compensating, …) frees its slot without an outcome.
    if (!isTerminalRun(state.status))
      for (const worker of flow.abandonWhere(
        state.runId,
        (phase, stepId, attempt) => !attemptIsOut(state, stepId, attempt, phase as Phase),
      ))
        touched.add(worker);
    // Timers belong to the run's owner; another instance that handled a message for it leaves them alone.
    timers.sync(state.runId, isTerminalRun(state.status) || !owns(state.runId) ? {} : state.timers);
    await Promise.all([...outgoing].map(([topic, messages]) => this.options.bus.publish(topic, messages)));
    for (const worker of touched) dispatch.drainLater(worker);
  }
}

function assertNever(value: never): never {
  throw new Error(`an effect the runtime does not know: ${JSON.stringify(value)}`);
}
