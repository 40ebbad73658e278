import type { EventStore, RecordedEvent } from '@orchestron/event-store';
import { runStream } from '@orchestron/runtime';
import { DEFAULT_TENANT } from '@orchestron/workflow-core';
import type { WorkflowEvent } from '@orchestron/workflow-core';
import type { RunFacts } from './notification-types.ts';

type RunStartedData = Extract<WorkflowEvent, { type: 'RunStarted' }>['data'];

const RUN_PREFIX = runStream('');
const MAX_CACHED = 10_000;

/** The run an event of the log is about, or undefined for an event of another stream. */
export function runIdOf(recorded: RecordedEvent): string | undefined {
  return recorded.streamId.startsWith(RUN_PREFIX) ? recorded.streamId.slice(RUN_PREFIX.length) : undefined;
}

/**
 * Tenant and definition of runs, from their RunStarted event: seen as it passes, or read from the run's stream
 * (one event) when the projection started after it. Only the most recent runs are kept.
 */
export class RunFactsCache {
  readonly #store: EventStore;
  readonly #facts = new Map<string, RunFacts>();

  constructor(store: EventStore) {
    this.#store = store;
  }

  /** Told of every event; keeps what a RunStarted says. */
  observe(recorded: RecordedEvent): void {
    const runId = runIdOf(recorded);
    if (runId !== undefined && recorded.type === 'RunStarted')
      this.#remember(runId, factsOf(recorded.data as RunStartedData));
  }

  async of(runId: string): Promise<RunFacts | undefined> {
    const known = this.#facts.get(runId);
    if (known !== undefined) return known;
    const [first] = await this.#store.readStream(runStream(runId), { maxCount: 1 });
    if (first?.type !== 'RunStarted') return undefined;
    const facts = factsOf(first.data as RunStartedData);
    this.#remember(runId, facts);
    return facts;
  }

  #remember(runId: string, facts: RunFacts): void {
    this.#facts.delete(runId);
    this.#facts.set(runId, facts);
    if (this.#facts.size > MAX_CACHED) this.#facts.delete(this.#facts.keys().next().value as string);
  }
}

function factsOf(data: RunStartedData): RunFacts {
  return {
    tenant: data.tenant ?? DEFAULT_TENANT,
    definitionId: data.definition.id,
    definitionVersion: data.definition.version,
  };
}
