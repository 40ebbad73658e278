import type { RecordedEvent } from '@orchestron/event-store';
import type { SubscriptionHub } from '@orchestron/event-store/adapter';

export interface LiveFeedOptions {
  readonly hub: SubscriptionHub;
  readonly readAll: (after: number, maxCount: number) => Promise<readonly RecordedEvent[]>;
  /** A committed position to follow from: every position up to it was committed before any subscriber existed. */
  readonly head: number;
  readonly pollIntervalMs: number;
}

export interface LiveFeed {
  /** `position` was committed, by this process or another, and so was everything before it. */
  committed(position: number): void;
  /**
   * This process committed `events`, consecutive positions in order: the feed passes them on without reading them
   * back when they come right after the last position it passed on and no read is out; else it reads, as for
   * `committed`.
   */
  appended(events: readonly RecordedEvent[]): void;
  /**
   * A notice on the rows channel: every position up to `to` was committed, and `rows()` gives the events it carries
   * (consecutive, maybe none; null when they cannot be parsed, which counts as a `wake`). A notice of positions
   * already passed on (its own append's echo, most often) is not parsed. The events are passed on as `appended`
   * passes this process's own. Whatever is left up to `to` waits while an append of this process is out: it is that
   * append's echo, as a rule, which often arrives before the append's own answer and would cost a read.
   */
  notifiedRows(to: number, rows: () => readonly RecordedEvent[] | null): void;
  /** An append of this process went out; `appendEnded` follows it, whatever became of it. */
  appendStarted(): void;
  appendEnded(): void;
  /** Something may have been committed: look. */
  wake(): void;
  /** A subscriber arrived: poll, as a safety net under the notifications, until none is left. */
  subscribed(): void;
  close(): Promise<void>;
}

const PAGE_SIZE = 500;

/**
 * Feeds the subscription hub from the table, for appends of every process alike. Positions are gap-free in
 * commit order, so reading after the last position seen yields exactly the new events, in order, and the hub
 * gets them as it requires. Notifications and this process's commits only say when to read.
 *
 * This process's own appends are passed on as committed when nothing can come between: their first position is the
 * one after `lastSeen` (positions are gap-free) and no read is out (whose page could hold earlier positions).
 *
 * While nobody subscribes, nothing is read: `lastSeen` jumps to each committed position instead. That is safe
 * because a subscriber registers with the hub before its own catch-up read, and from then on `lastSeen` only
 * moves by reading: the catch-up read starts after the jump, so it reaches at least `lastSeen`, and the feed
 * pushes everything after it.
 */
export function createLiveFeed(options: LiveFeedOptions): LiveFeed {
  const { hub } = options;
  let lastSeen = options.head;
  /** The highest position known committed: a read is due while lastSeen is below it. */
  let target = options.head;
  /** A look was asked for without a position (a poll, a reconnect): one read is due whatever the target. */
  let wanted = false;
  let pumping = false;
  let pump: Promise<void> = Promise.resolve();
  let pollTimer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;
  /** Appends of this process that are out, and the highest position notified meanwhile. */
  let ownAppends = 0;
  let heldNotice = 0;

  async function publishNew(): Promise<void> {
    while (hub.hasSubscribers) {
      const page = await options.readAll(lastSeen, PAGE_SIZE);
      const last = page.at(-1);
      if (last === undefined) return;
      hub.publish(page);
      lastSeen = Math.max(lastSeen, last.position);
      if (page.length < PAGE_SIZE) return;
    }
  }

  async function drain(): Promise<void> {
    try {
      // A notification of a commit this process just read (its own append's echo, as a rule) asks for nothing.
      while ((wanted || lastSeen < target) && !closed) {
        wanted = false;
        const before = lastSeen;
        await publishNew();
        if (lastSeen === before && lastSeen < target) return; // not visible yet: the next wake or poll reads again
      }
    } catch {
      // The read failed; the next notification or poll reads again from the same position.
    } finally {
      pumping = false;
    }
  }

  function wake(): void {
    if (closed || !hub.hasSubscribers) return;
    wanted = true;
    start();
  }

  function start(): void {
    if (pumping) return;
    pumping = true;
    pump = drain();
  }

  function poll(): void {
    pollTimer = undefined;
    if (closed || !hub.hasSubscribers) return;
    wake();
    schedulePoll();
  }

  function schedulePoll(): void {
    pollTimer = setTimeout(poll, options.pollIntervalMs);
    pollTimer.unref();
  }

  function committed(position: number): void {
    if (position <= lastSeen) return;
    if (!hub.hasSubscribers) {
      lastSeen = position;
      target = Math.max(target, position);
      return;
    }
    target = Math.max(target, position);
    if (!closed) start();
  }

  /** Passes `events` on if nothing can come between them and what was passed on before; says whether it did. */
  function passOn(events: readonly RecordedEvent[]): boolean {
    const first = events[0];
    const last = events.at(-1);
    if (first === undefined || last === undefined) return false;
    if (!hub.hasSubscribers || pumping || closed || first.position !== lastSeen + 1) return false;
    hub.publish(events);
    lastSeen = last.position;
    target = Math.max(target, lastSeen);
    return true;
  }

  function notified(position: number): void {
    if (ownAppends > 0) heldNotice = Math.max(heldNotice, position);
    else committed(position);
  }

  return {
    committed,
    appended(events) {
      const last = events.at(-1);
      if (last !== undefined && !passOn(events)) committed(last.position);
    },
    notifiedRows(to, rows) {
      if (to <= lastSeen) return;
      const events = rows();
      if (events === null) {
        wake();
        return;
      }
      passOn(events);
      if (to > lastSeen) notified(to);
    },
    appendStarted() {
      ownAppends += 1;
    },
    appendEnded() {
      ownAppends = Math.max(0, ownAppends - 1);
      if (ownAppends > 0 || heldNotice === 0) return;
      const position = heldNotice;
      heldNotice = 0;
      committed(position);
    },
    wake,
    subscribed() {
      if (pollTimer === undefined && !closed) schedulePoll();
    },
    async close() {
      closed = true;
      if (pollTimer !== undefined) clearTimeout(pollTimer);
      await pump;
    },
  };
}
