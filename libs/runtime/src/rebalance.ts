import type { TopicPartition } from '@orchestron/bus';
import type { RecordedEvent } from '@orchestron/event-store';
import { isStarted, isTerminalRun } from '@orchestron/workflow-core';
import type { FlowDispatch } from './flow-dispatch.ts';
import type { GovernanceClient } from './governance-client.ts';
import type { PartitionOwnership } from './ownership.ts';
import { describeError } from './ports.ts';
import type { Logger } from './ports.ts';
import type { ReadSide } from './read-side.ts';
import { recoverRun } from './recovery.ts';
import type { RecoveryDeps } from './recovery.ts';
import type { TimerWheel } from './timers.ts';

export interface RebalanceDeps extends RecoveryDeps {
  readonly ownership: PartitionOwnership;
  readonly readSide: ReadSide;
  readonly governance: GovernanceClient;
  readonly timers: TimerWheel;
  readonly dispatch: FlowDispatch;
  readonly logger: Logger;
  readonly stopped: () => boolean;
}

/**
 * Which runs this instance drives, as partitions move: it lets go of the runs it lost (timers, governance
 * retries, cache, flow slots) and recovers the ones it gained; and when another instance wrote to a run it owns,
 * it drops its stale copy and re-arms the run's timers from the stream.
 */
export class Rebalance {
  private readonly deps: RebalanceDeps;
  private assignment: Promise<void> = Promise.resolve();
  private recoveredRuns = 0;

  constructor(deps: RebalanceDeps) {
    this.deps = deps;
  }

  /** Runs recovered so far, over every assignment. */
  get recovered(): number {
    return this.recoveredRuns;
  }

  /** The assignment in progress (resolved when there is none). */
  settled(): Promise<void> {
    return this.assignment;
  }

  /**
   * The group gave this instance a new set of partitions. Runs it no longer owns lose their timers here (their
   * new owner arms them); runs it now owns are recovered from their streams, once the read model has caught up
   * with everything the previous owner wrote.
   */
  assign(partitions: readonly TopicPartition[]): Promise<void> {
    this.assignment = this.assignment
      .then(() => this.reassign(partitions))
      .catch((error: unknown) => {
        this.deps.logger.error('recovery after an assignment failed', { error: describeError(error) });
      });
    return this.assignment;
  }

  private async reassign(partitions: readonly TopicPartition[]): Promise<void> {
    const { ownership, readSide, dispatch, logger } = this.deps;
    const gained = ownership.update(partitions);
    await readSide.catchUp();
    const active = readSide.index.active();
    const freed = new Set<string>();
    for (const run of active.filter((r) => !ownership.owns(r.id))) {
      this.letGo(run.id);
      for (const worker of dispatch.forgetRun(run.id)) freed.add(worker);
    }
    for (const worker of freed) dispatch.drainLater(worker);
    // Only runs on partitions new to this instance: the ones it kept are live here already.
    const mine = active.filter((run) => gained.has(ownership.partitionOf(run.id)));
    for (const run of mine) await recoverRun(this.deps, run.id);
    this.recoveredRuns += mine.length;
    logger.info('partitions assigned', {
      partitions: ownership.describe(),
      gained: [...gained].sort((a, b) => a - b),
      activeRuns: active.length,
      recovered: mine.length,
    });
  }

  /**
   * Another instance wrote to a run this one owns (it handled a message for a partition that had just moved,
   * or served a direct call): this instance's cached state is stale and the run's timers may have changed.
   */
  noticeForeignWrite(event: RecordedEvent): void {
    const { commands, ownership, readSide, timers, logger } = this.deps;
    if (!event.streamId.startsWith('run-')) return;
    const runId = event.streamId.slice('run-'.length);
    if (this.deps.stopped() || commands.cachedRevision(runId) >= event.revision) return;
    const summary = readSide.index.get(runId);
    const over = summary !== undefined && isTerminalRun(summary.status);
    if (!ownership.owns(runId) || over) {
      // Not ours, or over: nothing to arm, and no reason to read the stream.
      if (over) this.letGo(runId);
      else commands.forget(runId);
      return;
    }
    void commands
      .serial(runId, async () => {
        if (commands.cachedRevision(runId) >= event.revision) return;
        commands.forget(runId);
        const { state } = await commands.load(runId);
        const live = isStarted(state) && !isTerminalRun(state.status) && ownership.owns(runId);
        timers.sync(runId, live ? state.timers : {});
      })
      .catch((error: unknown) =>
        logger.error('could not refresh a run another instance wrote', { runId, error: describeError(error) }),
      );
  }

  private letGo(runId: string): void {
    this.deps.timers.sync(runId, {});
    this.deps.governance.forget(runId);
    this.deps.commands.forget(runId);
  }
}
