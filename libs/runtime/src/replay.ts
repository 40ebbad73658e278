import type { EventStore, RecordedEvent } from '@orchestron/event-store';
import { fold } from '@orchestron/workflow-core';
import type { RunState, WorkflowEvent } from '@orchestron/workflow-core';

/** A run's state: the fold of its recorded events (guarantee 9). */
export function replay(events: readonly RecordedEvent[]): RunState {
  return fold(events.map((e) => ({ type: e.type, data: e.data }) as WorkflowEvent));
}

/** Reads the global log in pages from `position()` on, handing each event to `apply` (which moves the position). */
export async function readLogFrom(
  store: EventStore,
  position: () => number,
  apply: (event: RecordedEvent) => void,
): Promise<void> {
  for (
    let page = await store.readAll({ after: position(), maxCount: 5000 });
    page.length > 0;
    page = await store.readAll({ after: position(), maxCount: 5000 })
  ) {
    for (const event of page) apply(event);
  }
}
