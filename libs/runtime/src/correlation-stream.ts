/**
 * Where events from outside meet the event steps waiting for them: one stream per tenant, event name and key
 * (docs/adr/0029-event-correlation-in-the-store.md). Its events say who waits, which events came, to whom each was
 * given, and which are buffered. Folding it is all a process needs to correlate, so a crash loses nothing, and two
 * processes serialise on the stream's revision (append with the revision they read).
 */
import { createHash } from 'node:crypto';
import type { RecordedEvent } from '@orchestron/event-store';

export const CORRELATION_STREAM_PREFIX = 'correlation-';
export const EVENT_WAIT_REGISTERED = 'EventWaitRegistered';
export const EXTERNAL_EVENT_ACCEPTED = 'ExternalEventAccepted';
export const BUFFERED_EVENT_TAKEN = 'BufferedEventTaken';

/** The stream of one correlation; hashed, so a key of any characters and length makes a short, safe stream id. */
export function correlationStream(tenant: string, name: string, key: string): string {
  const digest = createHash('sha256')
    .update(JSON.stringify([tenant, name, key]))
    .digest('hex')
    .slice(0, 40);
  return `${CORRELATION_STREAM_PREFIX}${digest}`;
}

/**
 * A step of a run that waits (or waited) for the correlation's events. `since`: when that wait began, which tells it
 * from an earlier wait of the same step (an operator's retry, a re-drive); absent only where no wait is meant.
 */
export interface WaitTarget {
  readonly runId: string;
  readonly stepId: string;
  readonly since?: number;
}

export interface EventWaitRegisteredData extends WaitTarget {
  readonly tenant: string;
  readonly name: string;
  readonly key: string;
  readonly at: number;
}

/** `deliveredTo` empty: no step waited, so it is buffered until `expiresAt` for the first step that will. */
export interface ExternalEventAcceptedData {
  readonly tenant: string;
  readonly name: string;
  readonly key: string;
  readonly eventId: string;
  readonly payload: unknown;
  readonly by: string;
  readonly at: number;
  readonly expiresAt: number;
  readonly deliveredTo: readonly WaitTarget[];
}

export interface BufferedEventTakenData extends WaitTarget {
  readonly eventId: string;
  readonly at: number;
}

export interface CorrelatedEvent {
  readonly data: ExternalEventAcceptedData;
  /** Every step it was given to: when it came, or later out of the buffer. */
  readonly givenTo: readonly WaitTarget[];
}

export interface Correlation {
  /** The revision of the stream's last event; null for none (append with `no_stream`). */
  readonly revision: number | null;
  readonly events: ReadonlyMap<string, CorrelatedEvent>;
  /** Steps registered as waiting that no event was given to yet (some may have stopped waiting since). */
  readonly waiters: readonly WaitTarget[];
}

const same = (a: WaitTarget, b: WaitTarget): boolean =>
  a.runId === b.runId && a.stepId === b.stepId && a.since === b.since;

/** A target as callers see it: the run and the step. */
export const runAndStep = ({ runId, stepId }: WaitTarget): WaitTarget => ({ runId, stepId });

export function foldCorrelation(recorded: readonly RecordedEvent[]): Correlation {
  const events = new Map<string, CorrelatedEvent>();
  const registered: WaitTarget[] = [];
  for (const event of recorded) {
    if (event.type === EVENT_WAIT_REGISTERED) {
      const { runId, stepId, since } = event.data as EventWaitRegisteredData;
      const target = { runId, stepId, ...(since !== undefined ? { since } : {}) };
      if (!registered.some((w) => same(w, target))) registered.push(target);
    } else if (event.type === EXTERNAL_EVENT_ACCEPTED) {
      const data = event.data as ExternalEventAcceptedData;
      events.set(data.eventId, { data, givenTo: data.deliveredTo });
    } else if (event.type === BUFFERED_EVENT_TAKEN) {
      const { eventId, runId, stepId, since } = event.data as BufferedEventTakenData;
      const taken = events.get(eventId);
      const target = { runId, stepId, ...(since !== undefined ? { since } : {}) };
      if (taken) events.set(eventId, { ...taken, givenTo: [...taken.givenTo, target] });
    }
  }
  const served = [...events.values()].flatMap((e) => e.givenTo);
  return {
    revision: recorded.at(-1)?.revision ?? null,
    events,
    waiters: registered.filter((w) => !served.some((s) => same(s, w))),
  };
}

/** The event already given to this step, if one was (recovery gives it again: the run ignores it if it has it). */
export function givenTo(c: Correlation, target: WaitTarget): CorrelatedEvent | undefined {
  return [...c.events.values()].find((e) => e.givenTo.some((t) => same(t, target)));
}

/** The oldest event no step took yet whose buffer window is still open. */
export function buffered(c: Correlation, now: number): CorrelatedEvent | undefined {
  return [...c.events.values()].find((e) => e.givenTo.length === 0 && e.data.expiresAt > now);
}

export function isWaiter(c: Correlation, target: WaitTarget): boolean {
  return c.waiters.some((w) => same(w, target));
}
