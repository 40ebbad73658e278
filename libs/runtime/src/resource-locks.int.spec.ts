/** Resource locks on the embedded tier: the engine on the SQLite store, an in-process bus, a real worker. */
import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInMemoryBus } from '@orchestron/bus';
import type { MessageBus } from '@orchestron/bus';
import { createSqliteEventStore } from '@orchestron/store-sqlite';
import type { EventStore } from '@orchestron/event-store';
import type { RunData } from '@orchestron/workflow-core';
import { createWorker } from '@orchestron/worker-sdk';
import type { Worker } from '@orchestron/worker-sdk';
import { Engine } from './engine.ts';
import { LOCK_TABLE_STREAM } from './lock-table-store.ts';
import { eventually, startedRun } from './testing/index.ts';

/** `post` takes the account's lock; `hold` keeps `first` while `transfer` takes `first` then `second`. */
const transfer = {
  id: 'transfer',
  version: 1,
  steps: { post: { worker: 'bank', locks: [{ name: 'account-${{ input.account }}' }] } },
};
const settle = {
  id: 'settle',
  version: 1,
  onFailure: 'fail',
  steps: {
    hold: { worker: 'bank', locks: [{ name: '${{ input.first }}' }] },
    transfer: { worker: 'bank', locks: [{ name: '${{ input.first }}' }, { name: '${{ input.second }}' }] },
  },
};

interface Booted {
  engine: Engine;
  store: EventStore;
  bus: MessageBus;
  worker: Worker;
  path: string;
}

describe('resource locks on the embedded tier (SQLite store)', () => {
  const open: Booted[] = [];
  /** Steps the worker keeps until the test opens their gate, by run and step. */
  const gates = new Map<string, () => void>();
  const gated = new Set<string>();
  const inside = new Map<string, number>();
  let most = 0;
  afterEach(async () => {
    for (const open of gates.values()) open();
    gates.clear();
    gated.clear();
    inside.clear();
    most = 0;
    for (const o of open.splice(0).reverse()) await close(o);
  });
  const close = async (o: Booted) => {
    await o.worker.stop();
    await o.engine.stop();
    await o.store.close();
  };

  const boot = async (path = join(mkdtempSync(join(tmpdir(), 'locks-engine-')), 'events.sqlite')) => {
    const store = createSqliteEventStore({ path });
    const bus = createInMemoryBus();
    const engine = new Engine({ store, bus });
    const worker = createWorker({
      name: 'bank',
      bus,
      handlers: {
        execute: async (ctx) => {
          const input = ctx.input as { account?: string; first?: string; tenant?: string };
          const account = `${input.tenant ?? 'default'}/${input.account ?? ''}`;
          inside.set(account, (inside.get(account) ?? 0) + 1);
          most = Math.max(most, inside.get(account) ?? 0);
          const key = `${input.first ?? input.account}/${ctx.stepId}`;
          // Only the first attempt to come with a gated key waits for the test.
          if (gated.delete(key)) await new Promise<void>((resolve) => gates.set(key, resolve));
          else await new Promise((resolve) => setTimeout(resolve, 5));
          inside.set(account, (inside.get(account) ?? 1) - 1);
          return { step: ctx.stepId };
        },
      },
    });
    await worker.start();
    await engine.start();
    const booted = { engine, store, bus, worker, path };
    open.push(booted);
    for (const def of [transfer, settle]) {
      await engine.definitions.register(def, 'test');
      await engine.definitions.register(def, 'test', 'globex');
    }
    return booted;
  };
  const start = async (engine: Engine, definitionId: string, input: unknown, tenant?: string) =>
    (await startedRun(engine.startRun({ definitionId, input, actor: 'test', ...(tenant ? { tenant } : {}) }))).run
      .runId;
  const ended = (engine: Engine, runId: string) =>
    eventually(`run ${runId} to end`, async () => {
      const run = await engine.getRun(runId);
      return run !== null && ['completed', 'failed', 'compensated', 'cancelled'].includes(run.status) ? run : null;
    });
  const stepIs = (engine: Engine, runId: string, stepId: string, what: (run: RunData) => boolean) =>
    eventually(`${runId}/${stepId}`, async () => {
      const run = await engine.getRun(runId);
      return run !== null && what(run) ? run : null;
    });
  const heldForLock = (engine: Engine, runId: string, stepId: string) =>
    stepIs(engine, runId, stepId, (r) => {
      const st = r.steps[stepId];
      return st?.status === 'running' && st.held?.reason === 'lock';
    });
  const atWorker = (runId: string, stepId: string) =>
    eventually(`${runId}/${stepId} at the worker`, () => gates.has(`${runId}/${stepId}`));

  it('lets one step at a time touch an account, in FIFO order, and other accounts and tenants run alongside', async () => {
    const { engine } = await boot();
    const runs: string[] = [];
    for (let i = 0; i < 6; i++) runs.push(await start(engine, 'transfer', { account: 'A' }));
    const others = [
      await start(engine, 'transfer', { account: 'B' }),
      await start(engine, 'transfer', { account: 'A', tenant: 'globex' }, 'globex'),
    ];
    // Runs of account A in the default tenant never overlapped; B and globex's A did not wait for them.
    for (const runId of [...runs, ...others]) expect((await ended(engine, runId)).status).toBe('completed');
    expect(most).toBe(1);
    // B and globex's A were granted in the decision that asked: nothing held them back.
    const table = (await engine['store'].readStream(LOCK_TABLE_STREAM)).map((e) => e.data as { owner: unknown });
    for (const runId of others) {
      const asked = table.findIndex((d) => JSON.stringify(d.owner).includes(runId));
      expect(table[asked + 1]?.owner).toEqual(expect.stringContaining(runId));
    }
    const history = (await engine.history(runs[5]!)).map((e) => e.type);
    expect(history).toEqual(expect.arrayContaining(['StepDispatched', 'StepHeld', 'StepReleased', 'StepCompleted']));
    const dispatched = (await engine.history(runs[5]!)).find((e) => e.type === 'StepDispatched');
    expect(dispatched?.data).toMatchObject({ locks: [{ name: 'account-A', mode: 'exclusive' }] });
    // Every lock went back (a release follows the step's end in the background).
    await eventually('every lock released', async () => {
      const recorded = await engine['store'].readStream(LOCK_TABLE_STREAM);
      const count = (type: string) => recorded.filter((e) => e.type === type).length;
      return count('LocksRequested') === 8 && count('LocksReleased') === 8;
    });
  });

  it('fails the youngest waiter of a cycle with LOCK.DEADLOCK naming it, and the other run goes on', async () => {
    const { engine } = await boot();
    gated.add('a/hold');
    gated.add('b/hold');
    // r1 holds a (in hold) and its transfer waits for a; r2 holds b and its transfer waits for b.
    const r1 = await start(engine, 'settle', { first: 'a', second: 'b' });
    await atWorker('a', 'hold');
    await heldForLock(engine, r1, 'transfer');
    const r2 = await start(engine, 'settle', { first: 'b', second: 'a' });
    await atWorker('b', 'hold');
    await heldForLock(engine, r2, 'transfer');
    // r1's hold ends: its transfer takes a and waits for b. r2's hold ends: its transfer takes b, waits for a: a cycle.
    gates.get('a/hold')?.();
    await eventually('r1 hold done', async () => (await engine.getRun(r1))?.steps.hold?.status === 'completed');
    gates.get('b/hold')?.();
    const second = await ended(engine, r2);
    expect(second.status).toBe('failed');
    const failed = second.steps.transfer;
    expect(failed?.status).toBe('failed');
    if (failed?.status !== 'failed') throw new Error('transfer did not fail');
    expect(failed.error.code).toBe('LOCK.DEADLOCK');
    expect(failed.error.retryable).toBe(false);
    expect(failed.error.message).toBe(
      `deadlock: run ${r1} step "transfer" waits for lock "b", held by run ${r2} step "transfer"; ` +
        `run ${r2} step "transfer" waits for lock "a", held by run ${r1} step "transfer"; ` +
        `run ${r2} step "transfer" is the youngest waiter in the cycle and fails`,
    );
    // The victim's b went to r1's transfer, which ran.
    expect((await ended(engine, r1)).status).toBe('completed');
  });

  it('releases a cancelled run’s locks to the next waiter', async () => {
    const { engine } = await boot();
    gated.add('C/post');
    const first = await start(engine, 'transfer', { account: 'C' });
    await atWorker('C', 'post');
    const second = await start(engine, 'transfer', { account: 'C' });
    await heldForLock(engine, second, 'post');
    await engine.execute(first, { type: 'Cancel', data: { reason: 'test' } }, 'operator');
    expect((await ended(engine, second)).status).toBe('completed');
    expect((await ended(engine, first)).status).toBe('cancelled');
  });

  it('keeps the table across a restart: a waiter still waits, and gets the lock when the holder ends', async () => {
    const one = await boot();
    gated.add('D/post');
    const first = await start(one.engine, 'transfer', { account: 'D' });
    await atWorker('D', 'post');
    const second = await start(one.engine, 'transfer', { account: 'D' });
    await heldForLock(one.engine, second, 'post');
    // The process goes: the engine first, so the worker's late report is lost with the in-process bus.
    open.splice(open.indexOf(one), 1);
    await one.engine.stop();
    gates.get('D/post')?.();
    await one.worker.stop();
    await one.store.close();
    gated.clear();
    const two = await boot(one.path);
    // The first attempt's worker went away with the process: it is sent again on recovery, then the second runs.
    expect((await ended(two.engine, first)).status).toBe('completed');
    expect((await ended(two.engine, second)).status).toBe('completed');
    expect(most).toBe(1);
  });

  it('releases at start what a crash left held for a step that has ended (the release was lost)', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'locks-engine-')), 'events.sqlite');
    const store = createSqliteEventStore({ path });
    const ghost = { tenant: 'default', runId: 'no-such-run', stepId: 'post', phase: 'execute' };
    await store.append(LOCK_TABLE_STREAM, [
      {
        type: 'LocksRequested',
        data: { owner: ghost, attempt: 1, claims: [{ name: 'account-E', mode: 'exclusive' }], seq: 1, at: 0 },
      },
      {
        type: 'LockGranted',
        data: { owner: 'default/no-such-run/execute/post', name: 'account-E', mode: 'exclusive', at: 0 },
      },
    ]);
    await store.close();
    const { engine } = await boot(path);
    const runId = await start(engine, 'transfer', { account: 'E' });
    expect((await ended(engine, runId)).status).toBe('completed');
    const released = (await engine['store'].readStream(LOCK_TABLE_STREAM)).find((e) => e.type === 'LocksReleased');
    expect(released?.data).toMatchObject({ owner: 'default/no-such-run/execute/post', reason: 'ended' });
  });
});
