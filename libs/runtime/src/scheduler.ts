/**
 * Fires the schedules this process owns (docs/schedules.md). Each tick reads the directory and the streams of the
 * owned schedules, lets the decider say what is due, appends that at the revision it read, and only then starts the
 * runs, each with its fire's idempotency key. So two processes never record the same fire (the second append
 * fails on its revision), a fire recorded is never lost (a process that takes the schedule over starts the last
 * tick's fires again, and the key makes that a no-op for those that did start), and one fire is one run.
 */
import { ExpectedVersionConflictError } from '@orchestron/event-store';
import type { EventStore } from '@orchestron/event-store';
import { OrchestronError } from '@orchestron/errors';
import { isDue } from '@orchestron/workflow-core';
import type { LiveSchedule, ScheduleFire, ScheduleState } from '@orchestron/workflow-core';
import { describeError } from './ports.ts';
import type { Clock, Logger } from './ports.ts';
import type { StartRunRequest } from './run-service.ts';
import { fireRunId } from './schedule-service.ts';
import { applyToSchedule, loadSchedule, readDirectory, scheduleOwnerKey } from './schedule-streams.ts';
import type { Directory, ScheduleRef } from './schedule-streams.ts';

export const SCHEDULER_ACTOR = 'system:schedule';
/** How often the scheduler looks for due fires, by default. A per-second cron needs it at 1 s or less. */
export const DEFAULT_SCHEDULE_TICK_MS = 500;

export interface SchedulerDeps {
  readonly store: EventStore;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly tickMs: number;
  /** Whether this process owns the schedule (its partition, on the production tier; always, embedded). */
  readonly owns: (key: string) => boolean;
  readonly startRun: (request: StartRunRequest) => Promise<unknown>;
  /** Whether the run exists and has not ended. */
  readonly runActive: (runId: string) => Promise<boolean>;
}

export class Scheduler {
  private readonly deps: SchedulerDeps;
  private directory: Directory | undefined;
  /** Schedules whose last tick's fires this process has started (again) since it took them over. */
  private readonly redriven = new Set<string>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(deps: SchedulerDeps) {
    this.deps = deps;
  }

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** One pass over the owned schedules (the loop calls it every tickMs; tests may call it directly). */
  async tick(): Promise<void> {
    this.directory = await readDirectory(this.deps.store, this.directory);
    for (const ref of this.directory.entries) {
      if (this.stopped) return;
      const key = scheduleOwnerKey(ref);
      if (!this.deps.owns(key)) {
        this.redriven.delete(key);
        continue;
      }
      try {
        await this.tickOne(ref, key);
      } catch (error) {
        this.deps.logger.error('schedule tick failed', {
          schedule: ref.id,
          tenant: ref.tenant,
          error: describeError(error),
        });
      }
    }
  }

  private schedule(delay: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.tick()
        .catch((error: unknown) => this.deps.logger.error('scheduler pass failed', { error: describeError(error) }))
        .finally(() => this.schedule(this.deps.tickMs));
    }, delay);
    this.timer.unref?.();
  }

  private async tickOne(ref: ScheduleRef, key: string): Promise<void> {
    const loaded = await loadSchedule(this.deps.store, ref);
    const { state } = loaded;
    if (state.status === 'none') return;
    if (!this.redriven.has(key)) {
      this.redriven.add(key);
      await this.startFires(state, state.lastBatch);
    }
    const now = this.deps.clock.now();
    if (!isDue(state, now)) return;
    const previousRunActive =
      state.lastFire !== null && state.spec.overlap !== 'allow'
        ? await this.deps.runActive(fireRunId(state, state.lastFire))
        : false;
    let applied;
    try {
      applied = await applyToSchedule(
        this.deps.store,
        ref,
        { type: 'TickSchedule', data: { previousRunActive }, now, actor: SCHEDULER_ACTOR },
        { retry: false, loaded },
      );
    } catch (error) {
      // Another process recorded this tick first (two owners for a moment, during a rebalance): it starts the runs.
      if (error instanceof ExpectedVersionConflictError) return;
      throw error;
    }
    const fires = applied.events.flatMap((e) => (e.type === 'ScheduleFired' ? [{ ...e.data }] : []));
    await this.startFires(applied.state, fires);
  }

  /** Starts each fire's run; one that cannot start is recorded on the schedule (ScheduleFireFailed), not retried. */
  private async startFires(state: ScheduleState, fires: readonly ScheduleFire[]): Promise<void> {
    if (state.status === 'none' || state.status === 'deleted') return;
    for (const fire of fires.filter((f) => f.failed === undefined)) {
      try {
        await this.deps.startRun(requestFor(state, fire));
        this.deps.logger.info('schedule fired', {
          schedule: state.id,
          tenant: state.tenant,
          fireAt: new Date(fire.fireAt).toISOString(),
          runId: fireRunId(state, fire),
        });
      } catch (error) {
        if (!(error instanceof OrchestronError) || error.retryable) {
          // The store or bus briefly away: the next tick starts the last tick's fires again.
          this.redriven.delete(scheduleOwnerKey(state));
          throw error;
        }
        await this.recordFailure(state, fire, error.code, error.message);
      }
    }
  }

  private async recordFailure(state: LiveSchedule, fire: ScheduleFire, code: string, message: string): Promise<void> {
    this.deps.logger.warn('schedule fire could not start its run', { schedule: state.id, code, message });
    await applyToSchedule(
      this.deps.store,
      state,
      {
        type: 'RecordFireFailed',
        data: { fireAt: fire.fireAt, code, message },
        now: this.deps.clock.now(),
        actor: SCHEDULER_ACTOR,
      },
      { retry: true },
    );
  }
}

/** The scheduler of an engine, or none when `tickMs` is false (a process that must not fire). */
export function schedulerOf(tickMs: number | false, deps: Omit<SchedulerDeps, 'tickMs'>): Scheduler | null {
  return tickMs === false ? null : new Scheduler({ ...deps, tickMs });
}

function requestFor(state: LiveSchedule, fire: ScheduleFire): StartRunRequest {
  return {
    definitionId: state.spec.definitionId,
    ...(state.spec.definitionVersion !== undefined ? { definitionVersion: state.spec.definitionVersion } : {}),
    input: state.spec.input,
    idempotencyKey: fire.idempotencyKey,
    tenant: state.tenant,
    actor: SCHEDULER_ACTOR,
  };
}
