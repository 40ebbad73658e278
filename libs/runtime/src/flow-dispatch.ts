import { decide } from '@orchestron/workflow-core';
import type { Command, Effect, RunData } from '@orchestron/workflow-core';
import { attemptKey } from './dispatch-messages.ts';
import type { FlowControl, HeldAttempt } from './flow-control.ts';
import { describeError } from './ports.ts';
import type { Clock, Logger } from './ports.ts';
import type { AppendPlan, Applied, Decided } from './run-commands.ts';

const RELEASE_RETRY_MS = 1_000;
const FLOW_ACTOR = 'system:flow-control';

function releasedByGate(cause: Command): boolean {
  return cause.type === 'ReleaseStep' && cause.metadata.actor === FLOW_ACTOR;
}

export interface FlowDispatchOptions {
  readonly flow: FlowControl;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Flow control counts the runs this instance owns; a send for another's goes out as is. */
  readonly owns: (runId: string) => boolean;
  /** Applies a ReleaseStep to its run (decide, append, carry out). */
  readonly release: (runId: string, command: Command) => Promise<Applied>;
  readonly ended: (runId: string) => boolean;
  readonly stopped: () => boolean;
}

/**
 * Flow control around the send effect. A send the gate refuses is held in the same append as the decision that
 * made it (its HoldStep is decided on the state that decision leaves, so one round trip records both); it is
 * released, with a ReleaseStep, when the worker's gate lets it through.
 */
export class FlowDispatch {
  private readonly options: FlowDispatchOptions;
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(options: FlowDispatchOptions) {
    this.options = options;
  }

  /**
   * Asks the gate about each send before the append; refused ones become holds in the same append. A release by the
   * gate was admitted when it was taken off the queue, so it is not asked again; a release by the lock table is.
   */
  plan(runId: string, cause: Command, after: RunData, effects: readonly Effect[]): AppendPlan {
    const { flow, clock } = this.options;
    const admitted: string[] = [];
    const held: HeldAttempt[] = [];
    const extra: Decided[] = [];
    const kept: Effect[] = [];
    let state = after;
    for (const effect of effects) {
      if (effect.type !== 'SendStep' || releasedByGate(cause) || !this.options.owns(runId)) {
        kept.push(effect);
        continue;
      }
      const { worker, phase, stepId, attempt } = effect.data;
      const key = attemptKey(runId, phase, stepId, attempt);
      const gate = flow.request(worker, key);
      if (gate.admitted) {
        admitted.push(key);
        kept.push(effect);
        continue;
      }
      const command: Command = {
        type: 'HoldStep',
        data: { stepId, attempt, phase, reason: gate.reason, worker },
        metadata: { now: clock.now(), actor: FLOW_ACTOR },
      };
      const decision = decide(command, state);
      state = decision.state as RunData;
      extra.push(...decision.events.map((event) => ({ event, command })));
      held.push({ runId, stepId, attempt, phase, worker, reason: gate.reason });
    }
    return {
      extra,
      effects: kept,
      commit: () => {
        for (const h of held) {
          flow.hold(h);
          this.options.logger.warn('attempt held by flow control', {
            runId,
            stepId: h.stepId,
            attempt: h.attempt,
            worker: h.worker,
            reason: h.reason,
          });
          this.drainLater(h.worker);
        }
      },
      rollback: () => {
        for (const key of admitted) flow.abandoned(key);
      },
    };
  }

  /** Releases what the worker's gate lets through now, and checks again when a breaker may half-open or a token comes. */
  drainLater(worker: string): void {
    const { flow, clock, stopped } = this.options;
    if (stopped()) return;
    clearTimeout(this.timers.get(worker));
    this.timers.delete(worker);
    for (const held of flow.releasable(worker, (h) => attemptKey(h.runId, h.phase, h.stepId, h.attempt)))
      this.release(held);
    const next = flow.nextCheck(worker);
    if (next !== null)
      this.timers.set(
        worker,
        setTimeout(() => this.drainLater(worker), Math.max(10, next - clock.now())),
      );
  }

  /** Drops a run's attempts from flow control (it ended, or moved to another instance); returns the workers it freed. */
  forgetRun(runId: string): string[] {
    this.options.flow.forgetRun(runId);
    return this.options.flow.abandonRun(runId);
  }

  stop(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  private release(held: HeldAttempt): void {
    const { flow, clock, logger } = this.options;
    const key = attemptKey(held.runId, held.phase, held.stepId, held.attempt);
    const command: Command = {
      type: 'ReleaseStep',
      data: { stepId: held.stepId, attempt: held.attempt, phase: held.phase },
      metadata: { now: clock.now(), actor: FLOW_ACTOR },
    };
    this.options.release(held.runId, command).then(
      ({ effects }) => {
        // Nothing to send after all (the attempt was settled meanwhile): its slot goes to the next one.
        if (!effects.some((e) => e.type === 'SendStep')) {
          flow.abandoned(key);
          this.drainLater(held.worker);
        }
      },
      (error: unknown) => {
        // Still held in its stream: queue it again and try later, or it would wait until a restart. Not once the run
        // has ended, though: its hold is over, and a retry would only repeat the failure.
        flow.abandoned(key);
        if (this.options.ended(held.runId)) return;
        flow.hold(held);
        logger.error('could not release a held attempt; trying again', {
          runId: held.runId,
          stepId: held.stepId,
          error: describeError(error),
        });
        if (!this.options.stopped())
          this.timers.set(
            held.worker,
            setTimeout(() => this.drainLater(held.worker), RELEASE_RETRY_MS),
          );
      },
    );
  }
}
