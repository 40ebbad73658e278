/** The operator's view of the lock table: given requests and releases, then who holds and who waits, per lock. */
import { describe, expect, it } from '@jest/globals';
import { evolveLockTable, initialLockTable, ownerKey, releaseLocks, requestLocks } from '@orchestron/workflow-core';
import type { LockMode, LockOwner, LockTableState, Phase } from '@orchestron/workflow-core';
import { toLockViews } from './lock-views.ts';

const at = (second: number): number => Date.UTC(2030, 0, 2, 3, 4, second);
const iso = (second: number): string => new Date(at(second)).toISOString();
const owner = (tenant: string, runId: string, stepId = 'post', phase: Phase = 'execute'): LockOwner => ({
  tenant,
  runId,
  stepId,
  phase,
});
const claim = (name: string, mode: LockMode = 'exclusive') => ({ name, mode });

type Step =
  | { readonly ask: LockOwner; readonly claims: ReturnType<typeof claim>[]; readonly second: number }
  | { readonly end: LockOwner; readonly second: number };

/** Plays requests and releases on an empty table, as the runtime decides and folds them. */
function given(...steps: Step[]): LockTableState {
  let state = initialLockTable();
  for (const step of steps) {
    const events =
      'ask' in step
        ? requestLocks(state, step.ask, 1, step.claims, at(step.second))
        : releaseLocks(state, ownerKey(step.end), at(step.second));
    expect(events.length).toBeGreaterThan(0);
    state = events.reduce(evolveLockTable, state);
  }
  return state;
}

describe('toLockViews', () => {
  it('shows the holder and the waiters of a lock first in line first, with when each waiter asked', () => {
    const state = given(
      { ask: owner('acme', 'r1'), claims: [claim('account-1')], second: 1 },
      { ask: owner('acme', 'r2'), claims: [claim('account-1')], second: 2 },
      { ask: owner('acme', 'r3', 'undo', 'compensate'), claims: [claim('account-1', 'shared')], second: 3 },
    );
    expect(toLockViews(state)).toEqual([
      {
        tenant: 'acme',
        name: 'account-1',
        holders: [{ runId: 'r1', stepId: 'post', phase: 'execute', mode: 'exclusive' }],
        waiting: [
          { runId: 'r2', stepId: 'post', phase: 'execute', mode: 'exclusive', since: iso(2) },
          { runId: 'r3', stepId: 'undo', phase: 'compensate', mode: 'shared', since: iso(3) },
        ],
      },
    ]);
  });

  it('lists shared holders together, and moves the next waiter up when the holders end', () => {
    const sharing: Step[] = [
      { ask: owner('acme', 'r1'), claims: [claim('ledger', 'shared')], second: 1 },
      { ask: owner('acme', 'r2'), claims: [claim('ledger', 'shared')], second: 2 },
      { ask: owner('acme', 'r3'), claims: [claim('ledger')], second: 3 },
    ];
    const [before] = toLockViews(given(...sharing));
    expect(before?.holders.map((h) => `${h.runId}:${h.mode}`)).toEqual(['r1:shared', 'r2:shared']);
    expect(before?.waiting.map((w) => w.runId)).toEqual(['r3']);
    const after = given(...sharing, { end: owner('acme', 'r1'), second: 4 }, { end: owner('acme', 'r2'), second: 5 });
    expect(toLockViews(after)).toEqual([
      {
        tenant: 'acme',
        name: 'ledger',
        holders: [{ runId: 'r3', stepId: 'post', phase: 'execute', mode: 'exclusive' }],
        waiting: [],
      },
    ]);
  });

  it('shows a step that waits for its second lock as a holder of the first and a waiter of the second', () => {
    const state = given(
      { ask: owner('acme', 'r1'), claims: [claim('b')], second: 1 },
      { ask: owner('acme', 'r2'), claims: [claim('a'), claim('b')], second: 2 },
    );
    expect(
      toLockViews(state).map((l) => [l.name, l.holders.map((h) => h.runId), l.waiting.map((w) => w.runId)]),
    ).toEqual([
      ['a', ['r2'], []],
      ['b', ['r1'], ['r2']],
    ]);
  });

  it('keeps the same name in two tenants apart, filters by tenant, sorts by tenant then name, and limits', () => {
    const state = given(
      { ask: owner('globex', 'g1'), claims: [claim('zeta'), claim('alpha')], second: 1 },
      { ask: owner('acme', 'a1'), claims: [claim('zeta')], second: 2 },
      { ask: owner('acme', 'a2'), claims: [claim('beta')], second: 3 },
      { ask: owner('acme', 'a3'), claims: [claim('zeta')], second: 4 },
    );
    const names = (views: ReturnType<typeof toLockViews>) => views.map((l) => `${l.tenant}:${l.name}`);
    expect(names(toLockViews(state))).toEqual(['acme:beta', 'acme:zeta', 'globex:alpha', 'globex:zeta']);
    expect(names(toLockViews(state, { tenant: 'globex' }))).toEqual(['globex:alpha', 'globex:zeta']);
    expect(names(toLockViews(state, { tenant: 'initech' }))).toEqual([]);
    expect(names(toLockViews(state, { limit: 3 }))).toEqual(['acme:beta', 'acme:zeta', 'globex:alpha']);
    expect(names(toLockViews(state, { tenant: 'acme', limit: 1 }))).toEqual(['acme:beta']);
    const zeta = toLockViews(state, { tenant: 'acme' }).find((l) => l.name === 'zeta');
    expect([zeta?.holders.map((h) => h.runId), zeta?.waiting.map((w) => w.runId)]).toEqual([['a1'], ['a3']]);
  });

  it('drops a lock nobody holds or waits for any more', () => {
    const state = given(
      { ask: owner('acme', 'r1'), claims: [claim('account-1')], second: 1 },
      { end: owner('acme', 'r1'), second: 2 },
    );
    expect(toLockViews(state)).toEqual([]);
    expect(toLockViews(initialLockTable())).toEqual([]);
  });
});
