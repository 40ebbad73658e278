import { findErrorBy } from '@platformatic/kafka';
import pRetry from 'p-retry';
import { describeError, KafkaBusError } from './errors.ts';
import type { KafkaBusLogger } from './options.ts';

/**
 * What a broker answers while a group's coordinator is not ready: on a freshly formatted broker the first
 * FindCoordinator creates `__consumer_offsets`, and until its partitions are loaded FindCoordinator, JoinGroup,
 * SyncGroup and OffsetFetch answer with one of these.
 */
export const COORDINATOR_NOT_READY = ['COORDINATOR_NOT_AVAILABLE', 'NOT_COORDINATOR', 'COORDINATOR_LOAD_IN_PROGRESS'];

/** The broker's answer (one of COORDINATOR_NOT_READY) if `error`, or what it wraps, says the coordinator is not ready. */
export function coordinatorNotReady(error: unknown): string | undefined {
  for (let current: unknown = error, depth = 0; current instanceof Error && depth < 8; depth++) {
    for (const apiId of COORDINATOR_NOT_READY) if (findErrorBy(current, 'apiId', apiId) !== null) return apiId;
    current = current.cause;
  }
  return undefined;
}

export interface CoordinatorRetry {
  /** The consumer group, for the logs and the final error. */
  readonly group: string;
  /** Past this, the last failure is thrown as BUS.UNAVAILABLE naming what it waited for. */
  readonly deadlineMs: number;
  readonly logger: KafkaBusLogger;
  /** First backoff; each next one doubles, times a random factor in [1, 2), up to `maxDelayMs`. Default 250 ms. */
  readonly minDelayMs?: number;
  /** Default 5 s. */
  readonly maxDelayMs?: number;
}

/**
 * Runs `join` (which joins the group: FindCoordinator, JoinGroup, SyncGroup, OffsetFetch) again while it fails
 * because the group's coordinator is not ready, with exponential backoff and jitter, for `deadlineMs` at most.
 * Any other failure is thrown at once. The client retries each call itself (a few times, a fixed delay apart);
 * this is the longer wait above it, so that many members starting together on a fresh broker spread out.
 */
export async function retryWhileCoordinatorNotReady<T>(join: () => Promise<T>, options: CoordinatorRetry): Promise<T> {
  const began = performance.now();
  let attempts = 0;
  try {
    return await pRetry(
      async () => {
        attempts++;
        return join();
      },
      {
        retries: Number.POSITIVE_INFINITY,
        maxRetryTime: options.deadlineMs,
        minTimeout: options.minDelayMs ?? 250,
        maxTimeout: options.maxDelayMs ?? 5_000,
        factor: 2,
        randomize: true,
        shouldRetry: ({ error }) => coordinatorNotReady(error) !== undefined,
        onFailedAttempt: ({ error, attemptNumber }) => {
          const answer = coordinatorNotReady(error);
          if (answer === undefined) return;
          options.logger.warn('kafka group coordinator not ready yet', {
            group: options.group,
            attempt: attemptNumber,
            answer,
            elapsedMs: Math.round(performance.now() - began),
            deadlineMs: options.deadlineMs,
          });
        },
      },
    );
  } catch (error) {
    const answer = coordinatorNotReady(error);
    if (answer === undefined) throw error;
    const elapsed = Math.round(performance.now() - began);
    throw new KafkaBusError(
      'BUS.UNAVAILABLE',
      `group ${options.group}: its coordinator was not ready within ${options.deadlineMs} ms ` +
        `(${attempts} joins over ${elapsed} ms; FindCoordinator/JoinGroup/SyncGroup/OffsetFetch last answered ${answer}): ${describeError(error)}`,
      { cause: error },
    );
  }
}
