import type { Timer } from '@orchestron/workflow-core';

const MAX_DELAY = 2 ** 31 - 1;

/**
 * The in-memory half of durable timers: the durable half is `state.timers`, rebuilt from the store on start.
 * `sync` makes the scheduled set equal to a run's current timers.
 */
export class TimerWheel {
  private readonly handles = new Map<string, Map<string, { dueAt: number; handle: ReturnType<typeof setTimeout> }>>();
  private readonly now: () => number;
  private readonly fire: (runId: string, timer: Timer) => void;

  constructor(now: () => number, fire: (runId: string, timer: Timer) => void) {
    this.now = now;
    this.fire = fire;
  }

  sync(runId: string, timers: Readonly<Record<string, Timer>>): void {
    const current = this.handles.get(runId) ?? new Map();
    for (const [id, entry] of current) {
      if (!(id in timers)) {
        clearTimeout(entry.handle);
        current.delete(id);
      }
    }
    for (const timer of Object.values(timers)) {
      if (current.get(timer.id)?.dueAt === timer.dueAt) continue;
      const existing = current.get(timer.id);
      if (existing) clearTimeout(existing.handle);
      current.set(timer.id, { dueAt: timer.dueAt, handle: this.arm(runId, timer) });
    }
    if (current.size > 0) this.handles.set(runId, current);
    else this.handles.delete(runId);
  }

  get size(): number {
    let n = 0;
    for (const m of this.handles.values()) n += m.size;
    return n;
  }

  clear(): void {
    for (const m of this.handles.values()) for (const { handle } of m.values()) clearTimeout(handle);
    this.handles.clear();
  }

  private arm(runId: string, timer: Timer): ReturnType<typeof setTimeout> {
    const delay = Math.max(0, timer.dueAt - this.now());
    if (delay > MAX_DELAY) {
      return setTimeout(() => {
        const entry = this.handles.get(runId);
        if (entry?.has(timer.id)) entry.set(timer.id, { dueAt: timer.dueAt, handle: this.arm(runId, timer) });
      }, MAX_DELAY);
    }
    return setTimeout(() => {
      this.handles.get(runId)?.delete(timer.id);
      this.fire(runId, timer);
    }, delay);
  }
}
