/**
 * Where schedules live in the event store (docs/adr/0033-schedules.md): one stream per schedule, named by a hash of
 * its tenant and id, holding its ScheduleEvents; and one directory stream that lists every schedule ever created,
 * so a process finds them without reading the whole log. Both through the EventStore port, like correlations.
 */
import { createHash } from 'node:crypto';
import { ExpectedVersionConflictError } from '@orchestron/event-store';
import type { EventStore } from '@orchestron/event-store';
import { decideSchedule, evolveSchedule, foldSchedule } from '@orchestron/workflow-core';
import type { ScheduleCommand, ScheduleEvent, ScheduleState } from '@orchestron/workflow-core';

export const SCHEDULE_STREAM_PREFIX = 'schedule-';
export const SCHEDULE_DIRECTORY = 'schedules-directory';
const SCHEDULE_LISTED = 'ScheduleListed';
const CONFLICT_RETRIES = 8;

export interface ScheduleRef {
  readonly tenant: string;
  readonly id: string;
}

export function scheduleStream({ tenant, id }: ScheduleRef): string {
  const digest = createHash('sha256')
    .update(JSON.stringify([tenant, id]))
    .digest('hex')
    .slice(0, 40);
  return `${SCHEDULE_STREAM_PREFIX}${digest}`;
}

/** The key whose partition owns the schedule on the production tier, as a run id's does for its run. */
export const scheduleOwnerKey = ({ tenant, id }: ScheduleRef): string => `schedule/${tenant}/${id}`;

export interface LoadedSchedule {
  readonly state: ScheduleState;
  /** The revision of the stream's last event; null when there is none. */
  readonly revision: number | null;
}

export async function loadSchedule(store: EventStore, ref: ScheduleRef): Promise<LoadedSchedule> {
  const recorded = await store.readStream(scheduleStream(ref));
  const events = recorded.map((e) => ({ type: e.type, data: e.data }) as ScheduleEvent);
  return { state: foldSchedule(events), revision: recorded.at(-1)?.revision ?? null };
}

/**
 * Decides on the schedule as read and appends at the revision it was read at. `retry`: on a conflict, read again and
 * decide again (an operator's command); otherwise the conflict is the caller's (a tick another instance beat).
 */
export async function applyToSchedule(
  store: EventStore,
  ref: ScheduleRef,
  command: ScheduleCommand,
  options: { retry: boolean; loaded?: LoadedSchedule },
): Promise<{ state: ScheduleState; events: ScheduleEvent[] }> {
  for (let attempt = 0; ; attempt++) {
    const loaded = attempt === 0 && options.loaded ? options.loaded : await loadSchedule(store, ref);
    const events = decideSchedule(command, loaded.state);
    if (events.length === 0) return { state: loaded.state, events };
    try {
      await store.append(scheduleStream(ref), events, {
        expectedRevision: loaded.revision ?? 'no_stream',
      });
    } catch (error) {
      if (options.retry && error instanceof ExpectedVersionConflictError && attempt < CONFLICT_RETRIES) continue;
      throw error;
    }
    return { state: events.reduce(evolveSchedule, loaded.state), events };
  }
}

/** Lists a schedule in the directory (twice is harmless: readers keep the first). */
export async function listInDirectory(store: EventStore, ref: ScheduleRef): Promise<void> {
  const listed = await readDirectory(store);
  if (listed.entries.some((e) => e.tenant === ref.tenant && e.id === ref.id)) return;
  await store.append(SCHEDULE_DIRECTORY, [{ type: SCHEDULE_LISTED, data: { tenant: ref.tenant, id: ref.id } }]);
}

export interface Directory {
  readonly entries: readonly ScheduleRef[];
  readonly revision: number | null;
}

/** Every schedule ever listed, in order; `after` continues an earlier read from its revision. */
export async function readDirectory(store: EventStore, after?: Directory): Promise<Directory> {
  const from = after?.revision === null || after === undefined ? 0 : after.revision + 1;
  const recorded = await store.readStream(SCHEDULE_DIRECTORY, { fromRevision: from });
  const entries = [...(after?.entries ?? [])];
  for (const event of recorded) {
    const { tenant, id } = event.data as ScheduleRef;
    if (!entries.some((e) => e.tenant === tenant && e.id === id)) entries.push({ tenant, id });
  }
  return { entries, revision: recorded.at(-1)?.revision ?? after?.revision ?? null };
}
