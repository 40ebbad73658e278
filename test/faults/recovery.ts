// How the stack came back from one injection, from the runs' endings: pure functions over (time, partition) pairs.
import { longestGap, rateIn, timeToRate } from '../../bench/failover/timeline.ts';
import type { Completion } from '../../bench/failover/timeline.ts';

export interface Recovery {
  /** Runs ended per second over the 5 s before the fault. */
  readonly rateBefore: number;
  /**
   * The longest time, from the fault on, in which no run of the stack ended at all: up to 60 s after the fault was
   * over, or the last ending seen (the quiet after the round's last run is no stall).
   */
  readonly stallMs: number;
  /**
   * From the fault's start until runs ended again at 80% of the rate before it, over a 2 s window; undefined if
   * they never did before `until` (or there was no rate before to return to).
   */
  readonly recoveredMs: number | undefined;
}

export function recoveryOf(
  endings: readonly Completion[],
  fault: { readonly at: number; readonly clearedAt: number },
  until: number,
): Recovery {
  const rateBefore = rateIn(endings, fault.at - 5_000, fault.at);
  const all = endings.map((e) => ({ at: e.at, partition: 0 }));
  const last = endings.reduce((latest, e) => Math.max(latest, e.at), 0);
  const to = Math.min(until, fault.clearedAt + 60_000, last);
  const stallMs = to > fault.at ? longestGap(all, 0, fault.at, to) : until - fault.at;
  const recoveredMs = rateBefore > 0 ? timeToRate(endings, fault.at, rateBefore * 0.8, 2_000, until) : undefined;
  return { rateBefore, stallMs, recoveredMs };
}
