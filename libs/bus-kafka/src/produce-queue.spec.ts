import type { OutgoingRecord } from './codec.ts';
import { ProduceQueue } from './produce-queue.ts';

const record = (topic: string, key: string, bytes = 10): OutgoingRecord => ({
  topic,
  partition: 0,
  key: Buffer.from(key),
  value: Buffer.alloc(bytes),
  headers: new Map(),
});

class Unreachable extends Error {}

function harness(options: { fail?: (records: OutgoingRecord[]) => Error | undefined; maxBatchBytes?: number } = {}) {
  const requests: string[][] = [];
  let release: (() => void) | undefined;
  let holdNext = false;
  const queue = new ProduceQueue({
    send: async (records) => {
      requests.push(records.map((r) => `${r.topic}:${r.key.toString()}`));
      if (holdNext) {
        holdNext = false;
        await new Promise<void>((resolve) => (release = resolve));
      }
      const error = options.fail?.(records);
      if (error) throw error;
    },
    isUnavailable: (error) => error instanceof Unreachable,
    ...(options.maxBatchBytes === undefined ? {} : { maxBatchBytes: options.maxBatchBytes }),
  });
  return { queue, requests, hold: () => (holdNext = true), release: () => release?.() };
}

describe('ProduceQueue', () => {
  it('sends the publishes of one tick in one request, in the order they were made', async () => {
    const { queue, requests } = harness();
    await Promise.all([
      queue.publish([record('a', '1'), record('a', '2')]),
      queue.publish([record('b', '3')]),
      queue.publish([record('a', '4')]),
    ]);
    expect(requests).toEqual([['a:1', 'a:2', 'b:3', 'a:4']]);
    expect({ requests: queue.requests, publishes: queue.publishes }).toEqual({ requests: 1, publishes: 3 });
  });

  it('gathers what is published while a request is out into the next one', async () => {
    const { queue, requests, hold, release } = harness();
    hold();
    const first = queue.publish([record('a', '1')]);
    await new Promise((resolve) => setImmediate(resolve));
    const later = [queue.publish([record('a', '2')]), queue.publish([record('b', '3')])];
    expect(requests).toEqual([['a:1']]);
    release();
    await Promise.all([first, ...later]);
    expect(requests).toEqual([['a:1'], ['a:2', 'b:3']]);
  });

  it('sends a refused batch again publish by publish, so only the bad record fails', async () => {
    const { queue, requests } = harness({
      fail: (records) => (records.some((r) => r.key.toString() === 'bad') ? new Error('MESSAGE_TOO_LARGE') : undefined),
    });
    const outcomes = await Promise.allSettled([
      queue.publish([record('a', '1')]),
      queue.publish([record('a', 'bad')]),
      queue.publish([record('a', '3')]),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(requests).toEqual([['a:1', 'a:bad', 'a:3'], ['a:1'], ['a:bad'], ['a:3']]);
  });

  it('fails every publish of the batch at once when the broker is out of reach', async () => {
    const { queue, requests } = harness({ fail: () => new Unreachable('no broker') });
    const outcomes = await Promise.allSettled([queue.publish([record('a', '1')]), queue.publish([record('a', '2')])]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
    expect(requests).toHaveLength(1);
  });

  it('stops a batch at maxBatchBytes, but always sends at least one publish', async () => {
    const { queue, requests } = harness({ maxBatchBytes: 25 });
    await Promise.all([
      queue.publish([record('a', '1', 100)]),
      queue.publish([record('a', '2', 9)]),
      queue.publish([record('a', '3', 9)]),
      queue.publish([record('a', '4', 9)]),
    ]);
    expect(requests).toEqual([['a:1'], ['a:2', 'a:3'], ['a:4']]);
  });

  it('drain waits for everything queued so far', async () => {
    const { queue, hold, release } = harness();
    hold();
    let done = false;
    void queue.publish([record('a', '1')]).then(() => (done = true));
    const drained = queue.drain();
    setTimeout(release, 20);
    await drained;
    expect(done).toBe(true);
  });
});
