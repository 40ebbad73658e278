import { expect } from '@jest/globals';
import { ExpectedVersionConflictError } from '../errors.ts';
import type { EventData, EventHandler, EventStore, RecordedEvent } from '../event-store.port.ts';

export type GetStore = () => EventStore;

/**
 * The position of the k-th event of the log (1-based). A dense store numbers its events 1, 2, 3…, and the suite
 * holds it to exactly that; a store whose positions only increase (KurrentDB's commit positions) is checked
 * against its own log order instead.
 */
export type Ordinal = (k: number) => Promise<number>;

export function ordinals(getStore: GetStore, dense: boolean): Ordinal {
  return async (k) => {
    if (dense) return k;
    const position = (await getStore().readAll())[k - 1]?.position;
    if (position === undefined) throw new Error(`the log has no event #${k}`);
    return position;
  };
}

/** Bounds every wait so a broken adapter fails with a message instead of hanging until Jest's own timeout. */
const WAIT_LIMIT_MS = 20_000;

export function anEvent(type: string, data: unknown = {}, metadata?: Record<string, unknown>): EventData {
  return metadata === undefined ? { type, data } : { type, data, metadata };
}

export function range(count: number): number[] {
  return Array.from({ length: count }, (_, index) => index);
}

/** Appends `count` events one call at a time, each guarded by the exact revision it expects. */
export async function appendSequentially(store: EventStore, streamId: string, count: number): Promise<void> {
  for (const index of range(count)) {
    await store.append(streamId, [anEvent('Counted', { streamId, index })], {
      expectedRevision: index === 0 ? 'no_stream' : index - 1,
    });
  }
}

export async function expectConflict(pending: Promise<unknown>): Promise<ExpectedVersionConflictError> {
  const error = await pending.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(ExpectedVersionConflictError);
  const conflict = error as ExpectedVersionConflictError;
  expect(conflict.code).toBe('STORE.EXPECTED_VERSION_CONFLICT');
  return conflict;
}

export function positionsOf(events: readonly RecordedEvent[]): number[] {
  return events.map((event) => event.position);
}

export function expectStrictlyIncreasing(values: readonly number[]): void {
  const offenders = values.filter((value, index) => index > 0 && value <= (values[index - 1] ?? -Infinity));
  expect(offenders).toEqual([]);
}

export interface Collector {
  readonly events: RecordedEvent[];
  readonly handler: EventHandler;
  readonly onError: (error: unknown) => void;
  /** Resolves once an event at or past `position` was handled; rejects if the subscription reported an error. */
  reach(position: number): Promise<void>;
  /** Resolves once the subscription reported an error. */
  failure(): Promise<unknown>;
}

/** Collects what a subscription delivers; `react` runs inside the handler, after the event was collected. */
export function createCollector(react?: (event: RecordedEvent, index: number) => void | Promise<void>): Collector {
  const events: RecordedEvent[] = [];
  const waiters = new Set<{ position: number; resolve: () => void; reject: (error: unknown) => void }>();
  let reported: { error: unknown } | undefined;
  let errorWaiter: ((error: unknown) => void) | undefined;

  function settle(): void {
    const last = events.at(-1)?.position ?? 0;
    for (const waiter of waiters) {
      if (reported !== undefined) waiter.reject(reported.error);
      else if (last >= waiter.position) waiter.resolve();
      else continue;
      waiters.delete(waiter);
    }
  }

  return {
    events,
    async handler(event) {
      events.push(event);
      settle();
      await react?.(event, events.length - 1);
    },
    onError(error) {
      reported = { error };
      errorWaiter?.(error);
      settle();
    },
    reach(position) {
      return bounded(
        `subscription to reach position ${position}`,
        new Promise<void>((resolve, reject) => {
          waiters.add({ position, resolve, reject });
          settle();
        }),
      );
    },
    failure() {
      if (reported !== undefined) return Promise.resolve(reported.error);
      return bounded(
        'subscription to report an error',
        new Promise<unknown>((resolve) => {
          errorWaiter = resolve;
        }),
      );
    },
  };
}

async function bounded<T>(what: string, pending: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), WAIT_LIMIT_MS);
  });
  try {
    return await Promise.race([pending, limit]);
  } finally {
    clearTimeout(timer);
  }
}

/** Lets the subscriber fall behind the writers, so catch-up and buffering paths get exercised. */
export function yieldToWriters(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 1));
}
