import type { RecordedEvent } from '@orchestron/event-store';
import { evolve, initialState, isStarted, isTerminalRun } from '@orchestron/workflow-core';
import type { RunData, RunState, WorkflowEvent } from '@orchestron/workflow-core';
import { RUN_STREAM_PREFIX } from './run-index.ts';

/**
 * Runs a reading process keeps folded as its read side projects their events, so an answer given at the moment the
 * feed tells of a change (a wait that ended, a start or a command seen recorded) needs no read of the store.
 *
 * A run's entry is always the exact fold of its revisions 0 … version − 1 as the feed delivered them: an event at the
 * next revision is folded in, one already folded is ignored, and one past a gap (the feed delivered some before the
 * run was followed) drops the entry, so the caller reads the store as before. Never wrong, only as fresh as the feed:
 * use it where the feed is what the answer waited for, not for a plain read.
 */
export class LiveRuns {
  readonly #states = new Map<string, RunState>();
  readonly #max: number;

  /** `max`: how many runs to follow at once; the one followed longest is dropped first. */
  constructor(max = 2_000) {
    this.#max = max;
  }

  /** Follow a run whose stream has not begun: its events come from revision 0. */
  expect(runId: string): void {
    this.#put(runId, initialState());
  }

  /** Follow a run from a state folded from the store (its `version` events); an ended run is not followed. */
  seed(runId: string, state: RunState): void {
    if (isStarted(state) && isTerminalRun(state.status)) this.#states.delete(runId);
    else if (!this.#states.has(runId) || (this.#states.get(runId)?.version ?? 0) < state.version)
      this.#put(runId, state);
  }

  /** The read side projected an event. */
  apply(event: RecordedEvent): void {
    if (!event.streamId.startsWith(RUN_STREAM_PREFIX)) return;
    const runId = event.streamId.slice(RUN_STREAM_PREFIX.length);
    const state = this.#states.get(runId);
    if (state === undefined || event.revision < state.version) return;
    if (event.revision > state.version) this.#states.delete(runId);
    else this.#states.set(runId, evolve(state, { type: event.type, data: event.data } as WorkflowEvent));
  }

  /** The run as the feed last told of it, if followed and begun; an ended run is then no longer followed. */
  take(runId: string): RunData | undefined {
    const state = this.#states.get(runId);
    if (state === undefined || !isStarted(state)) return undefined;
    if (isTerminalRun(state.status)) this.#states.delete(runId);
    return state;
  }

  /** The run, if followed, begun and holding at least `version` events. */
  atLeast(runId: string, version: number): RunData | undefined {
    const state = this.#states.get(runId);
    return state !== undefined && isStarted(state) && state.version >= version ? this.take(runId) : undefined;
  }

  get size(): number {
    return this.#states.size;
  }

  #put(runId: string, state: RunState): void {
    this.#states.delete(runId);
    this.#states.set(runId, state);
    if (this.#states.size > this.#max) this.#states.delete(this.#states.keys().next().value as string);
  }
}
