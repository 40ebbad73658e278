import type { Consumer } from '@platformatic/kafka';
import { describeError } from './errors.ts';
import type { KafkaBusLogger } from './options.ts';
import type { PartitionProgress } from './partition-progress.ts';

/** A partition this member may commit for. */
export interface Committable {
  readonly topic: string;
  readonly partition: number;
  readonly progress: PartitionProgress;
}

export interface OffsetCommitsDependencies {
  readonly group: string;
  readonly intervalMs: number;
  readonly logger: KafkaBusLogger;
  /** The consumer to commit through; undefined when there is none (between members, or finished). */
  readonly consumer: () => Consumer | undefined;
  /** The partitions this member owns now. */
  readonly owned: () => Iterable<Committable>;
  readonly closing: () => boolean;
  /**
   * Whether the group is stable now. A commit sent mid-rebalance fails (REBALANCE_IN_PROGRESS, ILLEGAL_GENERATION),
   * and the client then joins again itself; in a cooperative group that join changes the member's metadata (what it
   * owns), which starts yet another rebalance: under load the group never settled (ADR 22). So commits wait.
   */
  readonly stable: () => boolean;
}

/**
 * A member's offset commits. They go on a short timer (`intervalMs`), not per message: one request then covers
 * every message that finished meanwhile, on every partition, and one commit request is out at a time. A member
 * that dies redelivers at most about that much (delivery is at least once either way).
 */
export class OffsetCommits {
  private readonly deps: OffsetCommitsDependencies;
  private committing: Promise<void> | undefined;
  private again = false;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(deps: OffsetCommitsDependencies) {
    this.deps = deps;
  }

  /** Something finished: commit it with the others of the next tick of the timer. */
  schedule(): void {
    if (this.committing !== undefined) {
      this.again = true;
      return;
    }
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.committing = this.loop().finally(() => {
        this.committing = undefined;
      });
    }, this.deps.intervalMs);
  }

  /**
   * One commit of what `partitions` have finished, now, whether or not the group is stable: for partitions this
   * member is giving up, so the next owner starts after what this one did. A failure only means redelivery.
   */
  async handOver(partitions: readonly Committable[]): Promise<void> {
    const consumer = this.deps.consumer();
    const batch = partitions.flatMap((owned) => {
      const point = owned.progress.pending();
      return point === undefined ? [] : [{ owned, point }];
    });
    if (consumer === undefined || batch.length === 0) return;
    try {
      await consumer.commit({
        offsets: batch.map(({ owned, point }) => ({
          topic: owned.topic,
          partition: owned.partition,
          offset: BigInt(point.offset),
          leaderEpoch: point.leaderEpoch,
        })),
      });
      for (const { owned, point } of batch) owned.progress.committedUpTo(point.offset);
    } catch (error) {
      this.deps.logger.warn('kafka offset commit of partitions given up failed; the next owner redelivers them', {
        group: this.deps.group,
        error: describeError(error),
      });
    }
  }

  /** Commits what is pending now, after any commit already out; the timer is not waited for. */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.committing;
    await this.loop();
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      const consumer = this.deps.consumer();
      if (consumer === undefined) return;
      // Closing commits what it can at once: its handlers are done, and the next member would redo the rest.
      if (!this.deps.closing() && !this.deps.stable()) {
        await sleep(this.deps.intervalMs);
        this.again = true;
        continue;
      }
      const batch = [...this.deps.owned()].flatMap((owned) => {
        const point = owned.progress.pending();
        return point === undefined ? [] : [{ owned, point }];
      });
      if (batch.length === 0) return;
      try {
        await consumer.commit({
          offsets: batch.map(({ owned, point }) => ({
            topic: owned.topic,
            partition: owned.partition,
            offset: BigInt(point.offset),
            leaderEpoch: point.leaderEpoch,
          })),
        });
        for (const { owned, point } of batch) owned.progress.committedUpTo(point.offset);
        if (this.again && !this.deps.closing()) await sleep(this.deps.intervalMs);
      } catch (error) {
        this.deps.logger.warn('kafka offset commit failed; retrying', {
          group: this.deps.group,
          error: describeError(error),
        });
        if (this.deps.closing()) return;
        await sleep(500);
        this.again = true;
      }
    } while (this.again);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
