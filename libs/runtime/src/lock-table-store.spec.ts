/**
 * The lock table's stream in the store: a read that overlaps a decision never takes the fold back, and two instances
 * (two LockTableStores over one store, as on the production tier) share it.
 */
import { describe, expect, it } from '@jest/globals';
import { createInMemoryEventStore } from '@orchestron/event-store';
import type { EventStore, RecordedEvent } from '@orchestron/event-store';
import { holdsAll, ownerKey, releaseLocks, requestLocks } from '@orchestron/workflow-core';
import type { LockOwner } from '@orchestron/workflow-core';
import { LOCK_TABLE_STREAM, LockTableStore } from './lock-table-store.ts';

const owner = (runId: string): LockOwner => ({ tenant: 'acme', runId, stepId: 'pay', phase: 'execute' });
const claims = [{ name: 'account-1', mode: 'exclusive' as const }];

describe('the lock table shared by two instances', () => {
  it('releases an owner the releasing instance had not seen yet (it reads what it missed)', async () => {
    const store = createInMemoryEventStore();
    const a = new LockTableStore(store);
    const b = new LockTableStore(store);
    await b.catchUp();
    await a.decide((s) => requestLocks(s, owner('r1'), 1, claims, 1));
    const released = await b.decide((s) => releaseLocks(s, ownerKey(owner('r1')), 2));
    expect(released.events.map((e) => e.type)).toEqual(['LocksReleased']);
    expect(Object.keys((await a.catchUp()).owners)).toEqual([]);
  });

  it('never grants one lock to two owners asking at once from two instances', async () => {
    const store = createInMemoryEventStore();
    const a = new LockTableStore(store);
    const b = new LockTableStore(store);
    await Promise.all([a.catchUp(), b.catchUp()]);
    await Promise.all([
      a.decide((s) => requestLocks(s, owner('r1'), 1, claims, 1)),
      b.decide((s) => requestLocks(s, owner('r2'), 1, claims, 1)),
    ]);
    const table = await a.catchUp();
    expect(table.locks['acme:account-1']?.holders).toHaveLength(1);
    expect(table.locks['acme:account-1']?.queue).toHaveLength(1);
    expect([holdsAll(table, ownerKey(owner('r1'))), holdsAll(table, ownerKey(owner('r2')))].sort()).toEqual([
      false,
      true,
    ]);
    expect((await store.readStream(LOCK_TABLE_STREAM)).filter((e) => e.type === 'LockGranted')).toHaveLength(1);
  });
});

const single: LockOwner = { tenant: 'acme', runId: 'r1', stepId: 'post', phase: 'execute' };

/** The store, whose next read of the lock table answers with what the stream had then, but only once let go. */
function slowRead(store: EventStore): { store: EventStore; hold: () => () => void } {
  let held: Promise<void> | null = null;
  const readStream: EventStore['readStream'] = async (streamId, options) => {
    const gate = streamId === LOCK_TABLE_STREAM ? held : null;
    held = null;
    const events: RecordedEvent[] = await store.readStream(streamId, options);
    await gate;
    return events;
  };
  return {
    store: { ...store, readStream },
    hold: () => {
      let open = (): void => undefined;
      held = new Promise<void>((resolve) => (open = resolve));
      return open;
    },
  };
}

describe('LockTableStore', () => {
  it('keeps a decision made while a catch-up read was out, rather than the older table that read saw', async () => {
    const slow = slowRead(createInMemoryEventStore());
    const table = new LockTableStore(slow.store);
    await table.catchUp();
    const letGo = slow.hold();
    const reading = table.catchUp();
    const decided = await table.decide((s) =>
      requestLocks(s, single, 1, [{ name: 'account-1', mode: 'exclusive' }], 1),
    );
    expect(holdsAll(decided.after, ownerKey(single))).toBe(true);
    letGo();
    expect(holdsAll(await reading, ownerKey(single))).toBe(true);
    expect(table.known).toBe(decided.after);
  });
});
