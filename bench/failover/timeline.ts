// What the failover bench computes from the runs' completion times: pure functions over (time, partition) pairs.

/** One run completed: when (epoch ms, the event's recorded time) and on which partition its key lands. */
export interface Completion {
  readonly at: number;
  readonly partition: number;
}

/**
 * The longest time within [from, to] during which `partition` completed nothing: between `from`, its completions
 * in the window, and `to`.
 */
export function longestGap(completions: readonly Completion[], partition: number, from: number, to: number): number {
  const times = completions
    .filter((c) => c.partition === partition && c.at >= from && c.at <= to)
    .map((c) => c.at)
    .sort((a, b) => a - b);
  let longest = 0;
  let last = from;
  for (const at of [...times, to]) {
    longest = Math.max(longest, at - last);
    last = at;
  }
  return longest;
}

/** The longest gap over several partitions, with the partition it was on. */
export function longestGapOf(
  completions: readonly Completion[],
  partitions: readonly number[],
  from: number,
  to: number,
): { readonly ms: number; readonly partition: number | undefined } {
  let worst: { ms: number; partition: number | undefined } = { ms: 0, partition: undefined };
  for (const partition of partitions) {
    const ms = longestGap(completions, partition, from, to);
    if (ms > worst.ms) worst = { ms, partition };
  }
  return worst;
}

/**
 * How long after `since` every one of `partitions` had completed a run again: the latest of their first
 * completions after it. Undefined when one of them has not completed any by the end of the data.
 */
export function backAfter(
  completions: readonly Completion[],
  partitions: readonly number[],
  since: number,
): number | undefined {
  let latest = 0;
  for (const partition of partitions) {
    const first = completions.find((c) => c.partition === partition && c.at > since);
    if (first === undefined) return undefined;
    latest = Math.max(latest, first.at - since);
  }
  return latest;
}

/** Completions per second in [from, to). */
export function rateIn(completions: readonly Completion[], from: number, to: number): number {
  return completions.filter((c) => c.at >= from && c.at < to).length / ((to - from) / 1000);
}

/**
 * How long after `since` the rate over a trailing window of `windowMs` first reached `target` completions per
 * second (the window's end, minus `since`), looking in steps of 100 ms up to `until`. Undefined if it never did.
 */
export function timeToRate(
  completions: readonly Completion[],
  since: number,
  target: number,
  windowMs: number,
  until: number,
): number | undefined {
  const times = completions.map((c) => c.at).sort((a, b) => a - b);
  for (let end = since + 100; end <= until; end += 100) {
    const from = Math.max(since, end - windowMs);
    // A window that starts at `since` is shorter than windowMs: the rate is over its real length.
    const count = countBetween(times, from, end);
    if (count / ((end - from) / 1000) >= target && end - from >= Math.min(windowMs, 1000)) return end - since;
  }
  return undefined;
}

function countBetween(sorted: readonly number[], from: number, to: number): number {
  let n = 0;
  for (const t of sorted) {
    if (t >= to) break;
    if (t >= from) n++;
  }
  return n;
}
