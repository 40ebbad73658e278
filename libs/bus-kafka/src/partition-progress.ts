interface Taken {
  readonly offset: number;
  readonly leaderEpoch: number;
}

export interface CommitPoint {
  /** The next offset to read: one past the last message of an unbroken run of finished ones. */
  readonly offset: number;
  readonly leaderEpoch: number;
}

/**
 * What one consumer has taken from one partition and what it has finished. Handlers may finish out of order
 * (concurrency > 1), but the committed offset only moves past a message once it and every message before it
 * has finished: a crash then re-delivers whatever had not, and never skips it.
 */
export class PartitionProgress {
  private readonly taken: Taken[] = [];
  private head = 0;
  private readonly finished = new Set<number>();
  private highest = -1;
  private point: CommitPoint | undefined;
  private committed = -1;

  /** Takes the message at `offset`, or returns false when it was already taken (a re-fetch after a rebalance). */
  take(offset: number, leaderEpoch: number): boolean {
    if (offset <= this.highest) return false;
    this.highest = offset;
    this.taken.push({ offset, leaderEpoch });
    return true;
  }

  finish(offset: number): void {
    this.finished.add(offset);
    for (
      let next = this.taken[this.head];
      next !== undefined && this.finished.has(next.offset);
      next = this.taken[this.head]
    ) {
      this.finished.delete(next.offset);
      this.point = { offset: next.offset + 1, leaderEpoch: next.leaderEpoch };
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.taken.length) {
      this.taken.splice(0, this.head);
      this.head = 0;
    }
  }

  /** The offset to commit, when it moved past what was committed. */
  pending(): CommitPoint | undefined {
    return this.point !== undefined && this.point.offset > this.committed ? this.point : undefined;
  }

  committedUpTo(offset: number): void {
    this.committed = Math.max(this.committed, offset);
  }

  /** Messages taken and not finished yet. */
  get unfinished(): number {
    return this.taken.length - this.head;
  }
}
