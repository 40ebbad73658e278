import { describe, expect, it } from '@jest/globals';
import { createInMemoryBus, Topics } from '@orchestron/bus';
import type { MessageBus } from '@orchestron/bus';
import { compileDefinition } from '@orchestron/definitions';
import { createInMemoryEventStore } from '@orchestron/event-store';
import { OrchestronError } from '@orchestron/errors';
import { commandTopicsOf } from './command-topics.ts';
import { DefinitionRegistry } from './definition-registry.ts';
import { Engine } from './engine.ts';

const definition = {
  id: 'onboarding',
  version: 1,
  steps: {
    account: { worker: 'accounts', compensate: { worker: 'cleanup', action: 'close' } },
    mail: { worker: 'mailer', needs: ['account'] },
    welcome: { worker: 'mailer', needs: ['mail'] },
    review: { type: 'approval', needs: ['welcome'] },
  },
};

/** An in-memory bus that records every topic it is asked to ensure, and fails while `down` is set. */
function recordingBus(): MessageBus & { ensured: string[][]; down: boolean } {
  const bus = createInMemoryBus();
  const recording = {
    ...bus,
    ensured: [] as string[][],
    down: false,
    async ensureTopics(topics: readonly string[]) {
      if (recording.down) throw new OrchestronError('BUS.UNAVAILABLE', 'the broker is away');
      recording.ensured.push([...topics]);
    },
  };
  return recording;
}

describe('command topics: made before the first dispatch', () => {
  it("names each worker's topic once, compensations' workers included, approval steps none", () => {
    expect(commandTopicsOf(compileDefinition(definition))).toEqual([
      Topics.commands('accounts'),
      Topics.commands('cleanup'),
      Topics.commands('mailer'),
    ]);
  });

  it('are made when a definition is registered, before it is recorded; a new version makes them again', async () => {
    const bus = recordingBus();
    const store = createInMemoryEventStore();
    const registry = new DefinitionRegistry(store, (d) => bus.ensureTopics(commandTopicsOf(d)));
    await registry.register(definition, 'test');
    expect(bus.ensured).toEqual([[Topics.commands('accounts'), Topics.commands('cleanup'), Topics.commands('mailer')]]);
    // The same content again is a no-op: nothing to make.
    await registry.register(definition, 'test');
    expect(bus.ensured).toHaveLength(1);
    await registry.register({ ...definition, version: 2, steps: { only: { worker: 'new-worker' } } }, 'test');
    expect(bus.ensured.at(-1)).toEqual([Topics.commands('new-worker')]);
  });

  it('a registration whose topics cannot be made now fails, and records nothing (the caller retries)', async () => {
    const bus = recordingBus();
    const store = createInMemoryEventStore();
    const registry = new DefinitionRegistry(store, (d) => bus.ensureTopics(commandTopicsOf(d)));
    bus.down = true;
    await expect(registry.register(definition, 'test')).rejects.toMatchObject({
      code: 'BUS.UNAVAILABLE',
      retryable: true,
    });
    expect(await store.readStream('definition-onboarding')).toEqual([]);
    bus.down = false;
    await expect(registry.register(definition, 'test')).resolves.toMatchObject({ created: true });
  });

  it('are made at start-up for every version the engine knows, and when the engine registers one', async () => {
    const store = createInMemoryEventStore();
    const first = new Engine({ store, bus: recordingBus() });
    await first.start();
    await first.definitions.register(definition, 'test');
    await first.definitions.register({ ...definition, version: 2, steps: { only: { worker: 'v2-worker' } } }, 'test');
    await first.stop();
    const bus = recordingBus();
    const engine = new Engine({ store, bus });
    await engine.start();
    await engine.stop();
    expect(bus.ensured.flat().sort()).toEqual(
      [
        Topics.commands('accounts'),
        Topics.commands('cleanup'),
        Topics.commands('mailer'),
        Topics.commands('v2-worker'),
      ].sort(),
    );
  });
});
