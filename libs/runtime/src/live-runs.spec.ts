import { describe, expect, it } from '@jest/globals';
import { createInMemoryEventStore } from '@orchestron/event-store';
import type { EventData, RecordedEvent } from '@orchestron/event-store';
import { LiveRuns } from './live-runs.ts';
import { replay } from './replay.ts';

const T0 = Date.UTC(2026, 11, 6);
const started = (runId: string): EventData => ({
  type: 'RunStarted',
  data: {
    runId,
    definition: { id: 'd', version: 1, steps: { a: { worker: 'w' } }, order: ['a'] },
    input: { n: 1 },
    idempotencyKey: null,
    startedBy: 'test',
    at: T0,
  },
});
const paused: EventData = { type: 'RunPaused', data: { by: 'op', at: T0 + 1 } };
const resumed: EventData = { type: 'RunResumed', data: { by: 'op', at: T0 + 2 } };
const cancelled: EventData = { type: 'RunCancelled', data: { by: 'op', at: T0 + 3 } };

/** The run's stream as the store records it: what a read side's feed delivers, in order. */
async function recorded(runId: string, events: readonly EventData[]): Promise<RecordedEvent[]> {
  const store = createInMemoryEventStore();
  await store.append(`run-${runId}`, events);
  return store.readStream(`run-${runId}`);
}

describe('LiveRuns: a run folded as the feed delivers it', () => {
  it('given a run expected before its start, when the feed delivers its events, then it is their fold', async () => {
    const live = new LiveRuns();
    const events = await recorded('r1', [started('r1'), paused, resumed]);
    live.expect('r1');
    for (const event of events) live.apply(event);
    expect(live.take('r1')).toEqual(replay(events));
    expect(live.take('r1')).toBeDefined(); // a run still going stays followed
  });

  it('given an event the entry already folded, when the feed delivers it again, then nothing changes', async () => {
    const live = new LiveRuns();
    const events = await recorded('r1', [started('r1'), paused, resumed]);
    live.seed('r1', replay(events.slice(0, 2)));
    for (const event of events) live.apply(event);
    expect(live.take('r1')).toEqual(replay(events));
  });

  it('given events the feed delivered before the run was followed, when a later one comes, then it is dropped', async () => {
    const live = new LiveRuns();
    const events = await recorded('r1', [started('r1'), paused, resumed]);
    live.expect('r1');
    live.apply(events[2]!); // revision 2 while the entry holds none: a gap
    expect(live.take('r1')).toBeUndefined();
    expect(live.size).toBe(0);
  });

  it('given a run not begun, when it is taken, then there is nothing to answer with', () => {
    const live = new LiveRuns();
    live.expect('r1');
    expect(live.take('r1')).toBeUndefined();
  });

  it('given a run that ended, when it is taken, then it is answered once and no longer followed', async () => {
    const live = new LiveRuns();
    const events = await recorded('r1', [started('r1'), cancelled]);
    live.expect('r1');
    for (const event of events) live.apply(event);
    expect(live.take('r1')?.status).toBe('cancelled');
    expect(live.take('r1')).toBeUndefined();
  });

  it('given an ended run loaded from the store, when it is seeded, then it is not followed', async () => {
    const live = new LiveRuns();
    live.seed('r1', replay(await recorded('r1', [started('r1'), cancelled])));
    expect(live.size).toBe(0);
  });

  it('given a newer entry, when an older fold is seeded, then the newer one stays', async () => {
    const live = new LiveRuns();
    const events = await recorded('r1', [started('r1'), paused, resumed]);
    live.seed('r1', replay(events));
    live.seed('r1', replay(events.slice(0, 1)));
    expect(live.take('r1')?.version).toBe(3);
  });

  it('given a command recorded at a revision, when asked for at least the state after it, then only a new enough entry answers', async () => {
    const live = new LiveRuns();
    const events = await recorded('r1', [started('r1'), paused]);
    live.seed('r1', replay(events.slice(0, 1)));
    expect(live.atLeast('r1', 2)).toBeUndefined();
    live.apply(events[1]!);
    expect(live.atLeast('r1', 2)?.status).toBe('paused');
  });

  it('given more runs than it may follow, when one more comes, then the one followed longest is dropped', async () => {
    const live = new LiveRuns(2);
    for (const id of ['r1', 'r2', 'r3']) live.seed(id, replay(await recorded(id, [started(id)])));
    expect(live.size).toBe(2);
    expect(live.take('r1')).toBeUndefined();
    expect(live.take('r3')?.runId).toBe('r3');
  });

  it('given events of other streams, when the feed delivers them, then they are ignored', async () => {
    const live = new LiveRuns();
    live.expect('r1');
    const store = createInMemoryEventStore();
    await store.append('definition-d', [started('r1')]);
    for (const event of await store.readStream('definition-d')) live.apply(event);
    expect(live.take('r1')).toBeUndefined();
    expect(live.size).toBe(1);
  });
});
