import { describe, expect, it } from '@jest/globals';
import { createInMemoryBus } from '@orchestron/bus';
import { createInMemoryEventStore } from '@orchestron/event-store';
import type { EventStore } from '@orchestron/event-store';
import { Engine } from './engine.ts';
import { RemoteRuns } from './remote-runs.ts';
import { replay } from './replay.ts';
import { closeAfterEach, startedRun } from './testing/index.ts';

/** Every attempt times out, three times: the run fails on its own, a few hundred ms after it starts. */
const slow = {
  id: 'slow',
  version: 1,
  defaults: { retry: { maxAttempts: 3, backoff: 'fixed', initialDelay: '10ms', jitter: 'none' }, timeout: '150ms' },
  steps: { only: { worker: 'nobody' } },
};

/** The store, counting the reads of run streams from one side. */
function counted(store: EventStore): { store: EventStore; reads: () => number } {
  let reads = 0;
  return {
    store: {
      ...store,
      readStream: (streamId, options) => {
        if (streamId.startsWith('run-')) reads++;
        return store.readStream(streamId, options);
      },
    },
    reads: () => reads,
  };
}

describe('RemoteRuns answers from the runs its read side folds, without reading them again', () => {
  const onClose = closeAfterEach();

  const boot = async () => {
    const shared = createInMemoryEventStore();
    const bus = createInMemoryBus({ partitions: 4 });
    const engine = new Engine({ store: shared, bus, flowControl: { defaults: { failureThreshold: 1000 } } });
    await engine.start();
    onClose(() => engine.stop());
    onClose(() => bus.close());
    await engine.definitions.register(slow, 'test', 'acme');
    const api = counted(shared);
    const remote = new RemoteRuns({ store: api.store, bus, waitMs: 5_000 });
    await remote.start();
    onClose(() => remote.stop());
    return { shared, remote, reads: api.reads };
  };

  it('a start reads only whether the key was used; the wait for its end answers with the run as recorded', async () => {
    const { shared, remote, reads } = await boot();
    const { run } = await startedRun(
      remote.startRun({ definitionId: 'slow', input: {}, idempotencyKey: 'k-1', tenant: 'acme', actor: 'producer:p' }),
    );
    expect(run.status).toBe('running');
    expect(reads()).toBe(1);
    const waited = await remote.awaitRun(run.runId, { timeoutMs: 10_000 });
    expect(waited.ended).toBe(true);
    expect(waited.run).toEqual(replay(await shared.readStream(`run-${run.runId}`)));
    expect(waited.run?.status).toBe('failed');
    expect(reads()).toBe(1);
    // Ended and answered: a second wait for it has nothing at hand, and the caller reads the store as before.
    expect((await remote.awaitRun(run.runId, { timeoutMs: 0 })).run).toBeUndefined();
  });

  it('an operator command answers with the run that holds its events, and a wait past it with the next change', async () => {
    const { shared, remote, reads } = await boot();
    const { run } = await startedRun(
      remote.startRun({ definitionId: 'slow', input: {}, idempotencyKey: 'k-2', tenant: 'acme', actor: 'producer:p' }),
    );
    const before = reads();
    const paused = await remote.execute(run.runId, { type: 'Pause', data: { reason: 'look' } }, 'operator:o');
    expect(paused.status).toBe('paused');
    // The command is checked against the run as loaded (one read); the answer after it needs none.
    expect(reads()).toBe(before + 1);
    const recorded = await shared.readStream(`run-${run.runId}`);
    expect(paused.version).toBeGreaterThanOrEqual(recorded.findIndex((e) => e.type === 'RunPaused') + 1);
    const at = recorded.at(-1)?.position ?? 0;
    const resumed = remote.awaitRun(run.runId, { timeoutMs: 10_000, after: at });
    await remote.execute(run.runId, { type: 'Resume', data: {} }, 'operator:o');
    const changed = await resumed;
    expect(changed.run?.status).not.toBe('paused');
    expect(changed.run?.version).toBeGreaterThan(paused.version);
  });
});
