/** How often a delivery is tried, and how far apart. */
export interface RetrySchedule {
  /** Attempts in all, the first included; then the record is `failed`. */
  readonly maxAttempts: number;
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
}

/** 12 attempts over about 45 minutes: 1 s, 2 s, 4 s, … doubling up to 15 minutes apart. */
export const DEFAULT_RETRY: RetrySchedule = { maxAttempts: 12, initialDelayMs: 1_000, maxDelayMs: 15 * 60_000 };

/** How many notifications one run may send one endpoint within a window; more wait for the window to move on. */
export interface RunLimit {
  readonly count: number;
  readonly windowMs: number;
}

export const DEFAULT_RUN_LIMIT: RunLimit = { count: 10, windowMs: 60_000 };

/**
 * The wait before the attempt after `attempts` failed ones: exponential, capped, with "equal jitter" (half fixed,
 * half random), so receivers that come back are not hit by every sender at once, and no wait is near zero.
 */
export function retryDelayMs(attempts: number, schedule: RetrySchedule, random: () => number = Math.random): number {
  const exponential = schedule.initialDelayMs * 2 ** Math.max(0, attempts - 1);
  const capped = Math.min(schedule.maxDelayMs, exponential);
  return Math.round(capped / 2 + (random() * capped) / 2);
}

/**
 * A sliding window of sends per (endpoint, run), in memory: a restart opens every window again, so at worst one
 * window's worth more goes out after a crash.
 */
export class RunThrottle {
  readonly #limit: RunLimit;
  readonly #sent = new Map<string, number[]>();

  constructor(limit: RunLimit) {
    if (!Number.isSafeInteger(limit.count) || limit.count < 1)
      throw new TypeError('run limit: count must be a positive integer');
    if (!Number.isSafeInteger(limit.windowMs) || limit.windowMs < 1)
      throw new TypeError('run limit: windowMs must be a positive integer');
    this.#limit = limit;
  }

  /** Counts a send and answers undefined when it may go at `now`; else when it may go, and counts nothing. */
  admit(key: string, now: number): number | undefined {
    const recent = (this.#sent.get(key) ?? []).filter((at) => at > now - this.#limit.windowMs);
    if (recent.length >= this.#limit.count) {
      this.#sent.set(key, recent);
      return (recent[0] as number) + this.#limit.windowMs;
    }
    recent.push(now);
    this.#sent.set(key, recent);
    return undefined;
  }

  /** Forgets windows that closed: called now and then, so runs long gone do not stay in memory. */
  prune(now: number): void {
    for (const [key, sent] of this.#sent) if ((sent.at(-1) ?? 0) <= now - this.#limit.windowMs) this.#sent.delete(key);
  }
}
