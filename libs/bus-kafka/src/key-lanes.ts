interface Lane<T> {
  readonly queue: T[];
  busy: boolean;
}

/**
 * Waiting messages in lanes: one message of a lane runs at a time, lanes run side by side. A lane is a
 * partition (order per partition) or a partition and key (order per key, different keys at once).
 */
export class KeyLanes<T> {
  private readonly lanes = new Map<string, Lane<T>>();
  /** Lanes with a waiting message and none running, in the order they became ready. */
  private readonly ready = new Set<string>();
  private waiting = 0;

  get size(): number {
    return this.waiting;
  }

  push(lane: string, item: T): void {
    let entry = this.lanes.get(lane);
    if (entry === undefined) {
      entry = { queue: [], busy: false };
      this.lanes.set(lane, entry);
    }
    entry.queue.push(item);
    this.waiting++;
    if (!entry.busy) this.ready.add(lane);
  }

  /** The next message whose lane is free; its lane stays busy until `release`. */
  take(): { lane: string; item: T } | undefined {
    for (const lane of this.ready) {
      this.ready.delete(lane);
      const entry = this.lanes.get(lane);
      const item = entry?.queue.shift();
      if (entry === undefined || item === undefined) continue;
      entry.busy = true;
      this.waiting--;
      return { lane, item };
    }
    return undefined;
  }

  release(lane: string): void {
    const entry = this.lanes.get(lane);
    if (entry === undefined) return;
    entry.busy = false;
    if (entry.queue.length > 0) this.ready.add(lane);
    else this.lanes.delete(lane);
  }

  /** Forgets the waiting messages `drop` picks (a partition taken away by a rebalance); running ones stay. */
  discard(drop: (item: T) => boolean): void {
    for (const [lane, entry] of this.lanes) {
      const kept = entry.queue.filter((item) => !drop(item));
      this.waiting -= entry.queue.length - kept.length;
      entry.queue.splice(0, entry.queue.length, ...kept);
      if (kept.length === 0) {
        this.ready.delete(lane);
        if (!entry.busy) this.lanes.delete(lane);
      }
    }
  }
}
