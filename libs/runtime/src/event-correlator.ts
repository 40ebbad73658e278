import { ExpectedVersionConflictError } from '@orchestron/event-store';
import type { EventStore } from '@orchestron/event-store';
import type { ExternalEventData } from '@orchestron/workflow-core';
import {
  BUFFERED_EVENT_TAKEN,
  buffered,
  correlationStream,
  EVENT_WAIT_REGISTERED,
  EXTERNAL_EVENT_ACCEPTED,
  foldCorrelation,
  givenTo,
  isWaiter,
  runAndStep,
} from './correlation-stream.ts';
import type { Correlation, ExternalEventAcceptedData, WaitTarget } from './correlation-stream.ts';
import { describeError } from './ports.ts';
import type { Clock, Logger } from './ports.ts';
import type { SendEventRequest, SendEventResult } from './run-service.ts';

const CONFLICT_RETRIES = 16;

export interface EventCorrelatorDeps {
  readonly store: EventStore;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly bufferMs: number;
  /** Whether the step still waits for this event's name and key (a registered waiter may have timed out since). */
  readonly waits: (target: WaitTarget, name: string, key: string) => Promise<boolean>;
  /** Hands the event to the run; the run ignores it if the step has it already or no longer waits. */
  readonly deliver: (target: WaitTarget, event: ExternalEventData, actor: string) => Promise<void>;
}

/** What a step starting to wait asks of the correlation. */
export interface AwaitRequest extends WaitTarget {
  readonly since: number;
  readonly tenant: string;
  readonly name: string;
  readonly key: string;
}

/**
 * Correlates events from outside with event steps, through the correlation stream of each tenant, name and key
 * (correlation-stream.ts). Every decision is appended there, at the revision it was read at, before any run is
 * told: a process that dies in between leaves it recorded, and the step's wait, repeated on recovery, finds it.
 */
export class EventCorrelator {
  private readonly deps: EventCorrelatorDeps;
  /** Waits being correlated in the background (stop lets them finish). */
  private readonly pending = new Set<Promise<void>>();
  private stopped = false;

  constructor(deps: EventCorrelatorDeps) {
    this.deps = deps;
  }

  /** An event from outside: a duplicate of one taken, delivered to the steps waiting for it, or buffered. */
  async receive(request: SendEventRequest): Promise<SendEventResult> {
    const { tenant, name, key, id, payload, actor } = request;
    const stream = correlationStream(tenant, name, key);
    for (let attempt = 0; ; attempt++) {
      const c = foldCorrelation(await this.deps.store.readStream(stream));
      const known = c.events.get(id);
      if (known) return { status: 'duplicate', eventId: id, deliveredTo: known.givenTo.map(runAndStep) };
      const live = await this.liveWaiters(c, name, key);
      const at = this.deps.clock.now();
      const data: ExternalEventAcceptedData = {
        tenant,
        name,
        key,
        eventId: id,
        payload: payload ?? null,
        by: actor,
        at,
        expiresAt: at + this.deps.bufferMs,
        deliveredTo: live,
      };
      if (!(await this.append(stream, c, EXTERNAL_EVENT_ACCEPTED, data, attempt))) continue;
      await Promise.all(live.map((target) => this.hand(target, data, actor)));
      return live.length > 0
        ? { status: 'delivered', eventId: id, deliveredTo: live.map(runAndStep) }
        : { status: 'buffered', eventId: id, deliveredTo: [], expiresAt: new Date(data.expiresAt).toISOString() };
    }
  }

  /**
   * A step started waiting (or a run was taken over while it waits): it gets the event already given to it, else
   * the oldest buffered one, else it is registered as a waiter. Safe to repeat.
   */
  async await(request: AwaitRequest): Promise<void> {
    const { tenant, name, key, runId, stepId, since } = request;
    const target = { runId, stepId, since };
    const stream = correlationStream(tenant, name, key);
    for (let attempt = 0; ; attempt++) {
      const c = foldCorrelation(await this.deps.store.readStream(stream));
      const given = givenTo(c, target);
      if (given) return this.hand(target, given.data, given.data.by);
      const early = buffered(c, this.deps.clock.now());
      if (early) {
        const taken = { eventId: early.data.eventId, ...target, at: this.deps.clock.now() };
        if (await this.append(stream, c, BUFFERED_EVENT_TAKEN, taken, attempt))
          return this.hand(target, early.data, early.data.by);
        continue;
      }
      if (isWaiter(c, target)) return;
      const registered = { ...target, tenant, name, key, at: this.deps.clock.now() };
      if (await this.append(stream, c, EVENT_WAIT_REGISTERED, registered, attempt)) return;
    }
  }

  /**
   * `await`, from a run's queue: in the background, because handing the run an event queues behind the caller. A
   * failure is logged; the wait is repeated when the run is recovered.
   */
  awaitInBackground(request: AwaitRequest): void {
    if (this.stopped) return;
    const work = this.await(request)
      .catch((error: unknown) =>
        this.deps.logger.error('could not correlate an event wait; it is tried again when the run is recovered', {
          runId: request.runId,
          stepId: request.stepId,
          error: describeError(error),
        }),
      )
      .finally(() => this.pending.delete(work));
    this.pending.add(work);
  }

  /** Takes no more waits, and lets those under way finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.allSettled([...this.pending]);
  }

  private async liveWaiters(c: Correlation, name: string, key: string): Promise<WaitTarget[]> {
    const checked = await Promise.all(c.waiters.map(async (w) => ((await this.deps.waits(w, name, key)) ? w : null)));
    return checked.filter((w): w is WaitTarget => w !== null);
  }

  /** Appends at the revision read; false when another process got there first (read again and decide again). */
  private async append(stream: string, c: Correlation, type: string, data: object, attempt: number): Promise<boolean> {
    try {
      await this.deps.store.append(stream, [{ type, data }], { expectedRevision: c.revision ?? 'no_stream' });
      return true;
    } catch (error) {
      if (!(error instanceof ExpectedVersionConflictError) || attempt >= CONFLICT_RETRIES) throw error;
      return false;
    }
  }

  /** Recorded already: a failure here is logged, and the step's wait, repeated on recovery, hands it over again. */
  private async hand(target: WaitTarget, data: ExternalEventAcceptedData, actor: string): Promise<void> {
    const event = { name: data.name, key: data.key, eventId: data.eventId, payload: data.payload };
    try {
      await this.deps.deliver(target, event, actor);
    } catch (error) {
      this.deps.logger.error('an event could not be handed to its run yet', {
        runId: target.runId,
        stepId: target.stepId,
        eventId: data.eventId,
        error: describeError(error),
      });
    }
  }
}
