/** The lock table, given what it holds, when an owner asks or ends, then what it records. */
import { describe, expect, it } from '@jest/globals';
import { findCycle } from './lock-cycles.ts';
import { evolveLockTable, holdsAll, initialLockTable, ownerKey, releaseLocks, requestLocks } from './lock-table.ts';
import type { LockMode, LockOwner, LockTableEvent, LockTableState } from './lock-table.ts';

const T = 1_000;
const owner = (runId: string, stepId = 'pay', tenant = 'acme'): LockOwner => ({
  tenant,
  runId,
  stepId,
  phase: 'execute',
});
const claims = (...names: string[]) => names.map((n) => ({ name: n.replace(/^~/, ''), mode: mode(n) }));
const mode = (n: string): LockMode => (n.startsWith('~') ? 'shared' : 'exclusive');

/** Plays requests (`+run:locks`) and releases (`-run`) from an empty table; returns the state and the last events. */
function given(...steps: string[]): { state: LockTableState; last: LockTableEvent[] } {
  let state = initialLockTable();
  let last: LockTableEvent[] = [];
  for (const step of steps) {
    const [id, names] = step.slice(1).split(':');
    last = step.startsWith('+')
      ? requestLocks(state, owner(id!), 1, claims(...(names ?? '').split(',')), T)
      : releaseLocks(state, ownerKey(owner(id!)), T);
    state = last.reduce(evolveLockTable, state);
  }
  return { state, last };
}

const granted = (events: LockTableEvent[]) =>
  events.filter((e) => e.type === 'LockGranted').map((e) => `${e.data.owner.split('/')[1]}:${e.data.name}`);

describe('lock table', () => {
  it('grants a free lock at once, and all of a step’s locks in the order it declares them', () => {
    const { state, last } = given('+r1:a,b');
    expect(granted(last)).toEqual(['r1:a', 'r1:b']);
    expect(holdsAll(state, ownerKey(owner('r1')))).toBe(true);
  });

  it('queues an exclusive request behind the holder and grants it when the holder ends', () => {
    const { state, last } = given('+r1:a', '+r2:a');
    expect(granted(last)).toEqual([]);
    expect(state.locks['acme:a']?.queue.map((w) => w.owner)).toEqual([ownerKey(owner('r2'))]);
    const after = releaseLocks(state, ownerKey(owner('r1')), T);
    expect(granted(after)).toEqual(['r2:a']);
  });

  it('lets shared holders share, and does not let a shared request overtake a queued exclusive one (FIFO)', () => {
    const { state, last } = given('+r1:~a', '+r2:~a', '+r3:a', '+r4:~a');
    expect(granted(last)).toEqual([]);
    expect(state.locks['acme:a']?.holders.map((h) => h.owner.split('/')[1])).toEqual(['r1', 'r2']);
    const one = given('+r1:~a', '+r2:~a', '+r3:a', '+r4:~a', '-r1');
    expect(granted(one.last)).toEqual([]);
    const both = given('+r1:~a', '+r2:~a', '+r3:a', '+r4:~a', '-r1', '-r2');
    expect(granted(both.last)).toEqual(['r3:a']);
    const third = given('+r1:~a', '+r2:~a', '+r3:a', '+r4:~a', '-r1', '-r2', '-r3');
    expect(granted(third.last)).toEqual(['r4:a']);
  });

  it('keeps tenants apart: the same name in another tenant is another lock', () => {
    let state = given('+r1:a').state;
    const other = requestLocks(state, owner('r2', 'pay', 'globex'), 1, claims('a'), T);
    state = other.reduce(evolveLockTable, state);
    expect(granted(other)).toEqual(['r2:a']);
    expect(Object.keys(state.locks).sort()).toEqual(['acme:a', 'globex:a']);
  });

  it('never deadlocks two owners alone: in-order, FIFO taking makes the first one take both', () => {
    const { state, last } = given('+r1:a,b', '+r2:b,a');
    expect(granted(last)).toEqual([]);
    expect(findCycle(state)).toBeNull();
    expect(holdsAll(state, ownerKey(owner('r1')))).toBe(true);
  });

  it('breaks a cycle at once, in the decision that closes it, failing the youngest waiter and naming the cycle', () => {
    // z1 holds a and z2 holds b; r1 then asks a,b and r2 asks b,a: each waits behind a z.
    const { state } = given('+z1:a', '+z2:b', '+r1:a,b', '+r2:b,a', '-z1');
    // r1 got a and queued for b behind r2; when z2 ends, r2 gets b and waits for a, which r1 holds: a cycle.
    const closing = releaseLocks(state, ownerKey(owner('z2')), T);
    expect(closing.map((e) => e.type)).toEqual([
      'LocksReleased',
      'LockGranted',
      'DeadlockBroken',
      'LocksReleased',
      'LockGranted',
    ]);
    const broken = closing.find((e) => e.type === 'DeadlockBroken');
    if (broken?.type !== 'DeadlockBroken') throw new Error('no DeadlockBroken');
    expect(broken.data.owner).toEqual(owner('r2'));
    expect(broken.data.cycle.map((l) => [l.waiter.split('/')[1], l.lock, l.blocker.split('/')[1]]).sort()).toEqual([
      ['r1', 'b', 'r2'],
      ['r2', 'a', 'r1'],
    ]);
    expect(broken.data.message).toContain('run r2 step "pay" waits for lock "a", held by run r1 step "pay"');
    expect(broken.data.message).toContain('run r2 step "pay" is the youngest waiter in the cycle and fails');
    // r2's b went to r1, which now holds both; nothing is left waiting.
    const after = closing.reduce(evolveLockTable, state);
    expect(holdsAll(after, ownerKey(owner('r1')))).toBe(true);
    expect(after.owners[ownerKey(owner('r2'))]).toBeUndefined();
    expect(findCycle(after)).toBeNull();
  });

  it('asking again is a no-op, except that a later attempt still waiting takes the grant to come', () => {
    const { state } = given('+r1:a', '+r2:a');
    expect(requestLocks(state, owner('r1'), 1, claims('a'), T)).toEqual([]);
    expect(requestLocks(state, owner('r2'), 1, claims('a'), T)).toEqual([]);
    expect(requestLocks(state, owner('r2'), 2, claims('a'), T)).toEqual([
      { type: 'LockWaitRenewed', data: { owner: ownerKey(owner('r2')), attempt: 2 } },
    ]);
  });

  it('leaves nothing behind: releasing every owner empties the table', () => {
    const { state } = given('+r1:a,~b', '+r2:~b,c', '+r3:c,a', '-r2', '-r1', '-r3');
    expect(state.locks).toEqual({});
    expect(state.owners).toEqual({});
  });
});
