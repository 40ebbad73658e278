// What the start-up benchmark fills a store with: runs exactly as the engine records them, copied under new ids.
import { createInMemoryBus } from '@orchestron/bus';
import { createInMemoryEventStore } from '@orchestron/event-store';
import type { EventData, EventStore } from '@orchestron/event-store';
import { Engine } from '@orchestron/runtime';
import { createWorker } from '@orchestron/worker-sdk';

const definition = {
  id: 'bench-onboarding',
  version: 1,
  input: { schema: { type: 'object', required: ['email'], properties: { email: { type: 'string' } } } },
  defaults: { retry: { maxAttempts: 3, backoff: 'exponential', initialDelay: '1s', maxDelay: '1m' }, timeout: '30s' },
  steps: {
    'create-account': { worker: 'bench', input: { email: '${{ input.email }}' } },
    'send-welcome': { worker: 'bench', needs: ['create-account'] },
  },
};

export interface RunTemplate {
  /** The definition's registration, appended once before the runs. */
  readonly registration: { readonly streamId: string; readonly events: readonly EventData[] };
  /** One run's events as JSON, with its run id to replace. */
  readonly runJson: string;
  readonly runId: string;
  readonly eventsPerRun: number;
}

/** Drives one real run through the embedded engine (in memory) and keeps what it recorded. */
export async function recordTemplate(): Promise<RunTemplate> {
  const store = createInMemoryEventStore();
  const bus = createInMemoryBus();
  const engine = new Engine({ store, bus, readCheckpoints: false });
  const worker = createWorker({ name: 'bench', bus, handlers: { execute: async (ctx) => ({ done: ctx.stepId }) } });
  await worker.start();
  await engine.start();
  await engine.definitions.register(definition, 'bench');
  const { run } = await engine.startRun({ definitionId: definition.id, input: { email: 'a@example.com' }, actor: 'b' });
  for (let i = 0; i < 500 && (await engine.getRun(run.runId))?.status !== 'completed'; i++)
    await new Promise((resolve) => setTimeout(resolve, 5));
  const toData = (events: Awaited<ReturnType<EventStore['readAll']>>): EventData[] =>
    events.map(({ type, data, metadata }) => ({ type, data, metadata }));
  const runEvents = toData(await store.readStream(`run-${run.runId}`));
  const registration = {
    streamId: `definition-${definition.id}`,
    events: toData(await store.readStream(`definition-${definition.id}`)),
  };
  await worker.stop();
  await engine.stop();
  await store.close();
  return { registration, runJson: JSON.stringify(runEvents), runId: run.runId, eventsPerRun: runEvents.length };
}

/** A run id as wide as a real one (a UUID), different for every k. */
function runIdFor(k: number): string {
  const hex = k.toString(16).padStart(12, '0');
  return `00000000-0000-4000-8000-${hex}`;
}

/**
 * Appends runs until the log holds at least `events` events, `runsPerTick` runs side by side per tick, so the
 * adapter's own batching (SQLite group commit, the PostgreSQL append batcher) writes them in big transactions.
 */
export async function fillRuns(
  store: EventStore,
  template: RunTemplate,
  events: number,
  options: {
    readonly firstRun?: number;
    readonly runsPerTick?: number;
    readonly progress?: (done: number) => void;
  } = {},
): Promise<number> {
  const runs = Math.ceil(events / template.eventsPerRun);
  const first = options.firstRun ?? 0;
  const perTick = options.runsPerTick ?? 2_000;
  const parts = template.runJson.split(template.runId);
  for (let start = 0; start < runs; start += perTick) {
    const batch: Promise<unknown>[] = [];
    for (let k = first + start; k < first + Math.min(runs, start + perTick); k++) {
      const runId = runIdFor(k);
      const recorded = JSON.parse(parts.join(runId)) as EventData[];
      batch.push(store.append(`run-${runId}`, recorded, { expectedRevision: 'no_stream' }));
    }
    await Promise.all(batch);
    options.progress?.(Math.min(runs, start + perTick) * template.eventsPerRun);
  }
  return runs;
}
