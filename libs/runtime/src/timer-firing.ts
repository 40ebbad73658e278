import pRetry from 'p-retry';
import type { Timer } from '@orchestron/workflow-core';
import { describeError } from './ports.ts';
import type { Logger } from './ports.ts';
import { transient } from './run-messages.ts';

/** What firing a timer needs from the engine. */
export interface TimerTarget {
  readonly logger: Logger;
  /** Whether this instance should still fire the run's timers: running, and the owner of the run's partition. */
  still(runId: string): boolean;
  /** Applies FireTimer to the run. */
  fire(runId: string, timer: Timer): Promise<unknown>;
}

/**
 * A timer's wake-up is held only in memory once due: if the store is briefly away when it fires (PostgreSQL's
 * connections cut, KurrentDB failing over), dropping it would leave the run waiting for ever. So a failure marked
 * retryable is tried again with backoff and jitter for as long as this instance owns the run; a failure that is
 * not (the run gone, a bug) is logged once. A new owner after a rebalance arms the timer from the run's state.
 */
export async function fireTimer(
  target: TimerTarget,
  runId: string,
  timer: Timer,
  retry: RetryShape = TIMER_RETRY,
): Promise<void> {
  try {
    await pRetry(() => target.fire(runId, timer), {
      ...retry,
      shouldRetry: ({ error }) => transient(error) && target.still(runId),
      onFailedAttempt: ({ error, attemptNumber }) => {
        if (transient(error) && target.still(runId))
          target.logger.warn('timer failed; trying again', {
            runId,
            timerId: timer.id,
            attempt: attemptNumber,
            error: describeError(error),
          });
      },
    });
  } catch (error) {
    if (!target.still(runId)) return;
    target.logger.error('timer failed', { runId, timerId: timer.id, error: describeError(error) });
  }
}

/** How attempts are spaced (p-retry's options). */
export interface RetryShape {
  readonly retries: number;
  readonly minTimeout: number;
  readonly maxTimeout: number;
  readonly factor: number;
  readonly randomize: boolean;
}

/** Unbounded: the store coming back is what ends an outage, and the delay between attempts stays at most 8 s. */
export const TIMER_RETRY: RetryShape = {
  retries: Number.POSITIVE_INFINITY,
  minTimeout: 250,
  maxTimeout: 8_000,
  factor: 2,
  randomize: true,
};
