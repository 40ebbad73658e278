/** The lock table's stream shared by two instances (two LockTableStores over one store), as on the production tier. */
import { describe, expect, it } from '@jest/globals';
import { createInMemoryEventStore } from '@orchestron/event-store';
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
