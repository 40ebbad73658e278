/**
 * Schedules as the HTTP edge sees them: create, pause, resume, delete, get and list, per tenant, on the event store
 * (schedule-streams.ts). Works the same in the embedded server and the production API: the orchestrators find what
 * it wrote in the store (scheduler.ts).
 */
import { declaredScheduleId } from '@orchestron/definitions';
import type { CompiledDefinition } from '@orchestron/definitions';
import type { DefinitionRegistry } from './definition-registry.ts';
import type { EventStore } from '@orchestron/event-store';
import { DEFAULT_MAX_CATCH_UP, DomainError, nextFireOf, specProblem } from '@orchestron/workflow-core';
import type {
  CatchUpPolicy,
  LiveSchedule,
  OverlapPolicy,
  ScheduleCommand,
  ScheduleFire,
} from '@orchestron/workflow-core';
import { runIdForKey } from './dispatch-messages.ts';
import type { Clock } from './ports.ts';
import { applyToSchedule, listInDirectory, loadSchedule, readDirectory } from './schedule-streams.ts';
import type { ScheduleRef } from './schedule-streams.ts';

/** A schedule id: what `orchestron schedule` and the routes name it by, and part of each fire's idempotency key. */
export const SCHEDULE_ID = /^[a-z0-9][a-z0-9._-]{0,63}$/;
export const SCHEDULE_ID_RULE =
  '"id" must be 1 to 64 characters of a-z, 0-9, ".", "_" and "-", starting with a letter or digit';
/** Live (not deleted) schedules one tenant may have: each costs every orchestrator a read per tick. */
export const MAX_SCHEDULES_PER_TENANT = 1000;
/** The input every fire's run starts with, at most this much JSON (as an event's payload). */
export const MAX_SCHEDULE_INPUT_BYTES = 256 * 1024;

export interface CreateScheduleRequest extends ScheduleRef {
  readonly definitionId: string;
  readonly definitionVersion?: number;
  readonly cron: string;
  readonly timezone: string;
  readonly input?: unknown;
  readonly overlap?: OverlapPolicy;
  readonly catchUp?: CatchUpPolicy;
  readonly maxCatchUp?: number;
  readonly actor: string;
}

export interface ScheduleFireView {
  readonly fireAt: string;
  /** The run this fire started (its id comes from the fire's idempotency key). */
  readonly runId: string;
  readonly idempotencyKey: string;
  readonly recordedAt: string;
  readonly catchUp: boolean;
  readonly failed?: { readonly code: string; readonly message: string };
}

export interface ScheduleView {
  readonly id: string;
  readonly tenant: string;
  readonly status: 'active' | 'paused';
  readonly definitionId: string;
  readonly definitionVersion: number | null;
  readonly cron: string;
  readonly timezone: string;
  readonly input: unknown;
  readonly overlap: OverlapPolicy;
  readonly catchUp: CatchUpPolicy;
  readonly maxCatchUp: number;
  readonly createdAt: string;
  readonly pausedAt: string | null;
  /** A time already past: due, fired at the scheduler's next tick. Null while paused. */
  readonly nextFireAt: string | null;
  readonly lastFire: ScheduleFireView | null;
  readonly bufferedFireAt: string | null;
  readonly fired: number;
  readonly skipped: number;
}

export interface ScheduleServiceDeps {
  readonly store: EventStore;
  readonly clock: Clock;
  /** The definition a schedule starts, looked up in its tenant (throws DEFINITION.NOT_FOUND). */
  readonly definition: (id: string, version: number | undefined, tenant: string) => CompiledDefinition;
  /** Default MAX_SCHEDULES_PER_TENANT. */
  readonly maxPerTenant?: number;
}

export class ScheduleService {
  private readonly deps: ScheduleServiceDeps;

  constructor(deps: ScheduleServiceDeps) {
    this.deps = deps;
  }

  async create(request: CreateScheduleRequest): Promise<ScheduleView> {
    const { tenant, id } = request;
    if (!SCHEDULE_ID.test(id)) throw new DomainError('SCHEDULE.INVALID', SCHEDULE_ID_RULE, { field: 'id' });
    checkInputSize(request.input);
    this.deps.definition(request.definitionId, request.definitionVersion, tenant);
    await this.checkRoom(tenant);
    const now = this.deps.clock.now();
    const spec = specOf(request);
    // Checked here too, before the directory: a refused request leaves nothing behind, not even a directory entry.
    const problem = specProblem(spec, now);
    if (problem) throw new DomainError('SCHEDULE.INVALID', problem.message, { field: problem.field });
    const command: ScheduleCommand = { type: 'CreateSchedule', data: { id, tenant, spec }, now, actor: request.actor };
    // Listed first: a crash before the schedule's own stream leaves an entry readers skip, never a hidden schedule.
    await listInDirectory(this.deps.store, request);
    const { state } = await applyToSchedule(this.deps.store, request, command, { retry: true });
    return viewOf(state as LiveSchedule);
  }

  /** Creates the schedules a definition declares (`<definition id>.<name>`) that do not exist; leaves the others. */
  async ensureDeclared(definition: CompiledDefinition, tenant: string, actor: string): Promise<void> {
    for (const [name, declared] of Object.entries(definition.schedules ?? {})) {
      try {
        await this.create({
          ...declared,
          tenant,
          id: declaredScheduleId(definition.id, name),
          definitionId: definition.id,
          actor,
        });
      } catch (error) {
        if (!(error instanceof DomainError && error.code === 'SCHEDULE.ALREADY_EXISTS')) throw error;
      }
    }
  }

  pause(ref: ScheduleRef, actor: string, reason?: string): Promise<ScheduleView> {
    return this.command(ref, { type: 'PauseSchedule', data: reason ? { reason } : {}, now: 0, actor });
  }

  resume(ref: ScheduleRef, actor: string): Promise<ScheduleView> {
    return this.command(ref, { type: 'ResumeSchedule', data: {}, now: 0, actor });
  }

  async delete(ref: ScheduleRef, actor: string): Promise<void> {
    await this.command(ref, { type: 'DeleteSchedule', data: {}, now: 0, actor });
  }

  async get(ref: ScheduleRef): Promise<ScheduleView> {
    const { state } = await loadSchedule(this.deps.store, ref);
    if (state.status !== 'active' && state.status !== 'paused')
      throw new DomainError('SCHEDULE.NOT_FOUND', `schedule ${JSON.stringify(ref.id)} does not exist`);
    return viewOf(state);
  }

  /** A tenant's schedules, or every tenant's when absent; deleted ones are left out. */
  async list(tenant?: string): Promise<ScheduleView[]> {
    const { entries } = await readDirectory(this.deps.store);
    const views: ScheduleView[] = [];
    for (const ref of entries.filter((e) => tenant === undefined || e.tenant === tenant)) {
      const { state } = await loadSchedule(this.deps.store, ref);
      if (state.status === 'active' || state.status === 'paused') views.push(viewOf(state));
    }
    return views.sort((a, b) => a.tenant.localeCompare(b.tenant) || a.id.localeCompare(b.id));
  }

  private async checkRoom(tenant: string): Promise<void> {
    const limit = this.deps.maxPerTenant ?? MAX_SCHEDULES_PER_TENANT;
    const live = (await this.list(tenant)).length;
    if (live >= limit)
      throw new DomainError(
        'SCHEDULE.LIMIT_REACHED',
        `tenant ${tenant} has ${live} schedules, the limit: delete one before creating another`,
        { limit },
      );
  }

  private async command(ref: ScheduleRef, command: ScheduleCommand): Promise<ScheduleView> {
    const stamped = { ...command, now: this.deps.clock.now() } as ScheduleCommand;
    const { state } = await applyToSchedule(this.deps.store, ref, stamped, { retry: true });
    return viewOf(state as LiveSchedule);
  }
}

function specOf(request: CreateScheduleRequest) {
  return {
    definitionId: request.definitionId,
    ...(request.definitionVersion !== undefined ? { definitionVersion: request.definitionVersion } : {}),
    cron: request.cron,
    timezone: request.timezone,
    input: request.input ?? null,
    overlap: request.overlap ?? 'skip',
    catchUp: request.catchUp ?? 'latest',
    maxCatchUp: request.maxCatchUp ?? DEFAULT_MAX_CATCH_UP,
  };
}

function checkInputSize(input: unknown): void {
  const size = Buffer.byteLength(JSON.stringify(input ?? null), 'utf8');
  if (size > MAX_SCHEDULE_INPUT_BYTES)
    throw new DomainError(
      'SCHEDULE.INVALID',
      `"input" is ${size} bytes of JSON, over the limit of ${MAX_SCHEDULE_INPUT_BYTES}`,
      { field: 'input' },
    );
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export function viewOf(state: LiveSchedule): ScheduleView {
  const { spec } = state;
  return {
    id: state.id,
    tenant: state.tenant,
    status: state.status === 'paused' ? 'paused' : 'active',
    definitionId: spec.definitionId,
    definitionVersion: spec.definitionVersion ?? null,
    cron: spec.cron,
    timezone: spec.timezone,
    input: spec.input,
    overlap: spec.overlap,
    catchUp: spec.catchUp,
    maxCatchUp: spec.maxCatchUp,
    createdAt: new Date(state.createdAt).toISOString(),
    pausedAt: iso(state.pausedAt),
    nextFireAt: iso(nextFireOf(state)),
    lastFire: state.lastFire && fireView(state, state.lastFire),
    bufferedFireAt: iso(state.buffered),
    fired: state.fired,
    skipped: state.skipped,
  };
}

/** The run a fire starts: its id follows from the definition, the fire's key and the tenant. */
export function fireRunId(state: LiveSchedule, fire: ScheduleFire): string {
  return runIdForKey(state.spec.definitionId, fire.idempotencyKey, state.tenant);
}

function fireView(state: LiveSchedule, fire: ScheduleFire): ScheduleFireView {
  return {
    fireAt: new Date(fire.fireAt).toISOString(),
    runId: fireRunId(state, fire),
    idempotencyKey: fire.idempotencyKey,
    recordedAt: new Date(fire.at).toISOString(),
    catchUp: fire.catchUp,
    ...(fire.failed ? { failed: fire.failed } : {}),
  };
}

/** The schedule service of a process that has a store and a definition registry (the Engine, RemoteRuns). */
export function scheduleServiceOf(
  store: EventStore,
  clock: Clock,
  definitions: () => DefinitionRegistry,
): ScheduleService {
  return new ScheduleService({
    store,
    clock,
    definition: (id, version, tenant) => definitions().get(id, version ?? 'latest', tenant),
  });
}
