/** The reconcile pass in the background: the caller goes on, the store's outages are waited out, stop waits for it. */
import { describe, expect, it } from '@jest/globals';
import { createInMemoryEventStore, EventStoreUnavailableError } from '@orchestron/event-store';
import { fold, requestLocks } from '@orchestron/workflow-core';
import type { LockOwner, RunState } from '@orchestron/workflow-core';
import { LOCK_TABLE_STREAM, LockTableStore } from './lock-table-store.ts';
import { ResourceLocks } from './resource-locks.ts';

/** An owner whose run has no stream: the step has ended as far as the table can tell, so reconcile releases it. */
const ghost: LockOwner = { tenant: 'acme', runId: 'no-such-run', stepId: 'post', phase: 'execute' };

interface Logged {
  readonly level: 'warn' | 'error';
  readonly message: string;
  readonly fields: Record<string, unknown> | undefined;
}

async function given(load: (runId: string) => Promise<RunState>) {
  const store = createInMemoryEventStore();
  const table = new LockTableStore(store);
  await table.decide((s) => requestLocks(s, ghost, 1, [{ name: 'account-1', mode: 'exclusive' }], 0));
  const logged: Logged[] = [];
  const locks = new ResourceLocks({
    table,
    clock: { now: () => 1 },
    logger: {
      info: () => undefined,
      warn: (message, fields) => logged.push({ level: 'warn', message, fields }),
      error: (message, fields) => logged.push({ level: 'error', message, fields }),
    },
    apply: () => Promise.reject(new Error('no run is applied to in these tests')),
    load,
  });
  const released = async () =>
    (await store.readStream(LOCK_TABLE_STREAM)).filter((e) => e.type === 'LocksReleased').length;
  return { locks, logged, released };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

describe('reconciling the lock table in the background', () => {
  it('lets the caller go on at once, and stop waits for the pass under way', async () => {
    let letGo: () => void = () => undefined;
    const loading = new Promise<void>((resolve) => (letGo = resolve));
    const { locks, released } = await given(async () => {
      await loading;
      return fold([]);
    });
    locks.reconcileInBackground();
    await settle();
    expect(await released()).toBe(0);
    let stopped = false;
    const stopping = locks.stop().then(() => (stopped = true));
    await settle();
    expect(stopped).toBe(false);
    letGo();
    await stopping;
    expect(await released()).toBe(1);
  });

  it('tries again while the store is away, then releases what the crash left held', async () => {
    let reads = 0;
    const { locks, logged, released } = await given(async () => {
      reads++;
      if (reads === 1) throw new EventStoreUnavailableError('the database is restarting');
      return fold([]);
    });
    locks.reconcileInBackground();
    const deadline = Date.now() + 5_000;
    while ((await released()) === 0 && Date.now() < deadline) await settle();
    expect(await released()).toBe(1);
    expect(reads).toBe(2);
    expect(logged).toEqual([
      { level: 'warn', message: 'released locks of steps that had ended', fields: { owners: 1 } },
    ]);
    await locks.stop();
  });

  it('logs a failure of another kind once, and does not try again', async () => {
    let reads = 0;
    const { locks, logged, released } = await given(() => {
      reads++;
      return Promise.reject(new Error('the stream is corrupt'));
    });
    locks.reconcileInBackground();
    await settle();
    await locks.stop();
    expect(reads).toBe(1);
    expect(await released()).toBe(0);
    expect(logged).toMatchObject([
      {
        level: 'error',
        message: 'could not release the locks of steps that had ended',
        fields: { error: expect.stringContaining('the stream is corrupt') },
      },
    ]);
  });
});
