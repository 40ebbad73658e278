/** The lock table's fold in this process: a read that overlaps a decision never takes the fold back. */
import { describe, expect, it } from '@jest/globals';
import { createInMemoryEventStore } from '@orchestron/event-store';
import type { EventStore, RecordedEvent } from '@orchestron/event-store';
import { holdsAll, ownerKey, requestLocks } from '@orchestron/workflow-core';
import type { LockOwner } from '@orchestron/workflow-core';
import { LOCK_TABLE_STREAM, LockTableStore } from './lock-table-store.ts';

const owner: LockOwner = { tenant: 'acme', runId: 'r1', stepId: 'post', phase: 'execute' };

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
    const decided = await table.decide((s) => requestLocks(s, owner, 1, [{ name: 'account-1', mode: 'exclusive' }], 1));
    expect(holdsAll(decided.after, ownerKey(owner))).toBe(true);
    letGo();
    expect(holdsAll(await reading, ownerKey(owner))).toBe(true);
    expect(table.known).toBe(decided.after);
  });
});
