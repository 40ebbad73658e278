import { describe, expect, it } from '@jest/globals';
import { Topics, createInMemoryBus } from '@orchestron/bus';
import type { DeliveredMessage, MessageBus, WorkflowStartMessage } from '@orchestron/bus';
import { OrchestronError } from '@orchestron/errors';
import { createInMemoryEventStore, EventStoreUnavailableError } from '@orchestron/event-store';
import type { EventStore } from '@orchestron/event-store';
import { runIdForKey } from './dispatch-messages.ts';
import { Engine } from './engine.ts';
import type { Logger } from './ports.ts';
import { RemoteRuns } from './remote-runs.ts';
import { runStream } from './run-index.ts';
import { START_REQUESTED, StartOutbox, startStream } from './start-outbox.ts';
import type { OutboxStart } from './start-outbox.ts';
import { closeAfterEach, eventually } from './testing/index.ts';

/** A bus that can be taken away: publishing then fails as the Kafka bus does when its broker is down. */
function switchableBus(inner: MessageBus): MessageBus & { down: boolean; published: number } {
  const bus = {
    down: false,
    published: 0,
    async publish(topic: string, messages: Parameters<MessageBus['publish']>[1]): Promise<void> {
      if (bus.down) throw new OrchestronError('BUS.UNAVAILABLE', `publish to ${topic}: Kafka is unavailable`);
      bus.published += messages.length;
      await inner.publish(topic, messages);
    },
    ensureTopics: inner.ensureTopics.bind(inner),
    subscribe: inner.subscribe.bind(inner),
    partitionOf: inner.partitionOf.bind(inner),
    close: inner.close.bind(inner),
  };
  return bus;
}

function startOf(key: string, input: unknown = { n: key }): OutboxStart {
  const message: WorkflowStartMessage = { type: 'workflow.start', definitionId: 'd', idempotencyKey: key, input };
  return { runId: runIdForKey('d', key), message, traceparent: `00-${'1'.repeat(32)}-${'2'.repeat(16)}-01` };
}

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const log = (level: string) => (message: string) => void lines.push(`${level}: ${message}`);
  return { lines, info: log('info'), warn: log('warn'), error: log('error') };
}

const slow = {
  id: 'slow',
  version: 1,
  defaults: { retry: { maxAttempts: 1 }, timeout: '10s' },
  steps: { only: { worker: 'nobody' } },
};

describe('the start outbox', () => {
  const onClose = closeAfterEach();

  const setUp = async (store: EventStore = createInMemoryEventStore(), graceMs = 60_000) => {
    const inner = createInMemoryBus({ partitions: 3 });
    const bus = switchableBus(inner);
    const seen: DeliveredMessage[] = [];
    await inner.subscribe({ topics: [Topics.workflowStarts], group: 'tap' }, async (m) => void seen.push(m));
    const logger = recordingLogger();
    const outbox = new StartOutbox({ store, bus, logger, graceMs, maxBackoffMs: 50 });
    await outbox.start();
    onClose(() => inner.close());
    onClose(() => outbox.stop());
    const keysSeen = (): string[] => seen.map((m) => (m.value as WorkflowStartMessage).idempotencyKey).sort();
    return { store, bus, outbox, logger, keysSeen };
  };

  it('records a start once, publishes it keyed by run id with its trace, and hands a retry the recorded one', async () => {
    const { store, outbox, keysSeen } = await setUp();
    const start = startOf('a');
    expect(await outbox.record(start, 'producer:p')).toEqual({ recorded: true });
    await eventually('the start published', () => keysSeen().length === 1);
    expect(await outbox.record(startOf('a', { other: true }), 'producer:p')).toEqual({
      recorded: false,
      existing: start,
    });
    const [event] = await store.readStream(startStream(start.runId));
    expect(event).toMatchObject({ type: START_REQUESTED, data: start, metadata: { actor: 'producer:p' } });
    expect(keysSeen()).toEqual(['a']);
  });

  it('keeps starts while the bus is away, says so at once to whoever waits, and publishes each once when it is back', async () => {
    const { bus, outbox, logger, keysSeen } = await setUp();
    bus.down = true;
    const outage = outbox.whenUnavailable();
    const keys = Array.from({ length: 40 }, (_, i) => `k${i}`);
    for (const key of keys) await outbox.record(startOf(key), 'producer:p');
    await outage.promise;
    // Once the outage is known, a new waiter does not wait for another failed publish.
    await outbox.whenUnavailable().promise;
    expect(outbox.pending).toBe(40);
    expect(keysSeen()).toEqual([]);
    bus.down = false;
    await eventually('every start published', () => keysSeen().length === 40, 5_000);
    expect(keysSeen()).toEqual([...keys].sort());
    expect(outbox.pending).toBe(0);
    expect(logger.lines.filter((l) => l.startsWith('warn: start relay: the bus is unavailable'))).toHaveLength(1);
    expect(logger.lines).toContain('info: start relay: the bus is back');
  });

  it('brings back what a stopped process left unpublished, and skips a start whose run has started', async () => {
    const store = createInMemoryEventStore();
    const first = await setUp(store, 0);
    first.bus.down = true;
    await first.outbox.record(startOf('lost'), 'producer:p');
    await first.outbox.record(startOf('ran'), 'producer:p');
    await first.outbox.whenUnavailable().promise;
    await first.outbox.stop();
    const checkpoint = await store.checkpoints?.load('start-outbox');
    const [lost] = await store.readStream(startStream(startOf('lost').runId));
    expect(checkpoint?.position ?? 0).toBeLessThan(lost?.position ?? 0);
    // An orchestrator started 'ran' meanwhile (its start reached the bus some other way).
    await store.append(runStream(startOf('ran').runId), [{ type: 'RunStarted', data: {} }]);
    const second = await setUp(store, 0);
    await eventually('the lost start published', () => second.keysSeen().length === 1, 5_000);
    expect(second.keysSeen()).toEqual(['lost']);
    await new Promise((r) => setTimeout(r, 100));
    expect(second.keysSeen()).toEqual(['lost']);
  });

  it('leaves a start recorded by another process to it during the grace period', async () => {
    const store = createInMemoryEventStore();
    const mine = await setUp(store, 60_000);
    // Another API process records a start; it publishes it itself, so this one must not.
    await store.append(startStream(startOf('theirs').runId), [{ type: START_REQUESTED, data: startOf('theirs') }]);
    await mine.outbox.record(startOf('mine'), 'producer:p');
    await eventually('my start published', () => mine.keysSeen().length === 1);
    await new Promise((r) => setTimeout(r, 100));
    expect(mine.keysSeen()).toEqual(['mine']);
    expect(mine.outbox.pending).toBe(1);
  });

  it.each([
    ['no run id', { message: startOf('x').message, traceparent: 't' }],
    ['a message of another type', { ...startOf('x'), message: { type: 'operator.command' } }],
    ['no data at all', null],
  ])('refuses to publish a recorded start with %s, and says so', async (_, data) => {
    const { store, logger, keysSeen } = await setUp(createInMemoryEventStore(), 0);
    await store.append(startStream('forged'), [{ type: START_REQUESTED, data }]);
    await eventually('the refusal logged', () =>
      logger.lines.includes('error: start outbox: a recorded start is malformed; it is not published'),
    );
    expect(keysSeen()).toEqual([]);
  });
});

describe('RemoteRuns: a start is accepted durably', () => {
  const onClose = closeAfterEach();

  const boot = async () => {
    const store = createInMemoryEventStore();
    const inner = createInMemoryBus({ partitions: 3 });
    const engine = new Engine({ store, bus: inner });
    await engine.start();
    await engine.definitions.register(slow, 'test');
    const bus = switchableBus(inner);
    const api = new RemoteRuns({ store, bus, waitMs: 5_000 });
    await api.start();
    onClose(() => inner.close());
    onClose(() => engine.stop());
    onClose(() => api.stop());
    return { api, bus, engine };
  };
  const request = (key: string, input: unknown = {}) => ({
    definitionId: 'slow',
    input,
    idempotencyKey: key,
    actor: 'producer:p',
  });

  it('answers accepted, at once, while the bus is away; the start runs once it is back, and the same key then finds the run', async () => {
    const { api, bus } = await boot();
    bus.down = true;
    const began = Date.now();
    const answer = await api.startRun(request('k1'));
    expect(Date.now() - began).toBeLessThan(2_000);
    const runId = runIdForKey('slow', 'k1');
    expect(answer).toEqual({
      accepted: { runId, idempotencyKey: 'k1', definitionId: 'slow', definitionVersion: 1 },
    });
    expect(await api.startRun(request('k1'))).toEqual(answer);
    await expect(api.startRun(request('k1', { other: 1 }))).rejects.toMatchObject({ code: 'RUN.ALREADY_EXISTS' });
    expect(await api.getRun(runId)).toBeNull();
    bus.down = false;
    await eventually('the run started', async () => (await api.getRun(runId)) !== null, 5_000);
    const again = await api.startRun(request('k1'));
    expect(again).toMatchObject({ run: { runId }, created: false });
    expect(bus.published).toBe(1);
  });

  it('answers with the run when the bus is there', async () => {
    const { api } = await boot();
    expect(await api.startRun(request('k2'))).toMatchObject({
      run: { runId: runIdForKey('slow', 'k2') },
      created: true,
    });
  });

  it('answers STORE.UNAVAILABLE, retryable, when the store cannot record the start', async () => {
    const { api } = await boot();
    const store = (api as unknown as { store: EventStore }).store;
    const append = store.append.bind(store);
    store.append = async () => {
      throw new EventStoreUnavailableError('postgres is away');
    };
    await expect(api.startRun(request('k3'))).rejects.toMatchObject({ code: 'STORE.UNAVAILABLE', retryable: true });
    store.append = append;
  });
});
