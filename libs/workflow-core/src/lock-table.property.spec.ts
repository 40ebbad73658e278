/**
 * The lock table over random multi-run schedules: owners of two tenants asking for one to three of four locks in
 * random modes, steps ending once they hold their locks, and cancels at any point. After every decision: never two
 * holders of a lock unless both share it, every grant to the head of its queue, every broken cycle a real one and
 * its victim the youngest waiter in it, and no deadlock left standing (letting every owner that holds its locks end,
 * again and again, ends every owner). At the end, releasing everyone leaves an empty table: no lock leaked.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { blockersOf } from './lock-cycles.ts';
import { evolveLockTable, holdsAll, initialLockTable, ownerKey, releaseLocks, requestLocks } from './lock-table.ts';
import type { LockOwner, LockTableEvent, LockTableState } from './lock-table.ts';
import type { LockClaim } from './messages.ts';

const NAMES = ['a', 'b', 'c'];
const RUNS = 1_000;

const claimsArb = fc
  .uniqueArray(fc.constantFrom(...NAMES), { minLength: 1, maxLength: 3 })
  .chain((names) =>
    fc.tuple(
      ...names.map((name) =>
        fc.constantFrom<LockClaim['mode']>('exclusive', 'exclusive', 'shared').map((mode) => ({ name, mode })),
      ),
    ),
  );
const ownerArb = fc.record({ tenant: fc.constantFrom('acme', 'acme', 'globex'), claims: claimsArb });
const actionArb = fc.record({
  kind: fc.constantFrom('ask', 'ask', 'ask', 'end', 'end', 'cancel'),
  who: fc.nat({ max: 7 }),
});
const scheduleArb = fc.record({
  owners: fc.array(ownerArb, { minLength: 2, maxLength: 8 }),
  actions: fc.array(actionArb, { minLength: 1, maxLength: 40 }),
});

const counts = { schedules: 0, decisions: 0, grants: 0, deadlocksBroken: 0, livenessChecks: 0 };

function ownerOf(i: number, tenant: string): LockOwner {
  return { tenant, runId: `r${i}`, stepId: 'step', phase: 'execute' };
}

/** Folds the decision in, checking each event against the state it applies to. */
function apply(state: LockTableState, events: LockTableEvent[]): LockTableState {
  counts.decisions++;
  let s = state;
  for (const event of events) {
    if (event.type === 'LockGranted') {
      counts.grants++;
      const o = s.owners[event.data.owner]!;
      const entry = s.locks[`${o.owner.tenant}:${event.data.name}`];
      expect(entry?.queue[0]?.owner).toBe(event.data.owner);
    }
    if (event.type === 'DeadlockBroken') {
      counts.deadlocksBroken++;
      const cycle = event.data.cycle;
      // Each link is a real wait, and the links close a loop.
      for (const [i, link] of cycle.entries()) {
        expect(blockersOf(s, link.waiter).map((b) => b.blocker)).toContain(link.blocker);
        expect(cycle[(i + 1) % cycle.length]!.waiter).toBe(link.blocker);
      }
      const seqs = cycle.map((l) => s.owners[l.waiter]!.seq);
      expect(s.owners[event.data.victim]!.seq).toBe(Math.max(...seqs));
    }
    s = evolveLockTable(s, event);
    checkExclusive(s);
  }
  return s;
}

function checkExclusive(s: LockTableState): void {
  for (const entry of Object.values(s.locks)) {
    if (entry.holders.length > 1) expect(entry.holders.every((h) => h.mode === 'shared')).toBe(true);
    for (const h of [...entry.holders, ...entry.queue]) expect(s.owners[h.owner]).toBeDefined();
  }
}

/** No deadlock left standing: owners that hold all their locks end, until nobody is left. */
function checkLive(state: LockTableState): void {
  counts.livenessChecks++;
  let s = state;
  while (Object.keys(s.owners).length > 0) {
    const done = Object.keys(s.owners).filter((k) => holdsAll(s, k));
    expect(done.length).toBeGreaterThan(0);
    for (const key of done) s = apply(s, releaseLocks(s, key, 0));
  }
  expect(s.locks).toEqual({});
}

describe('lock table properties', () => {
  afterAll(() => {
    console.info(`lock table properties: ${JSON.stringify(counts)}`);
  });

  it('never two exclusive holders, FIFO grants, real cycles broken at their youngest, no deadlock left, no leak', () => {
    fc.assert(
      fc.property(scheduleArb, ({ owners, actions }) => {
        counts.schedules++;
        let s = initialLockTable();
        const asked = new Set<number>();
        for (const [t, { kind, who }] of actions.entries()) {
          const i = who % owners.length;
          const o = owners[i]!;
          const key = ownerKey(ownerOf(i, o.tenant));
          if (kind === 'ask' && !asked.has(i)) {
            asked.add(i);
            s = apply(s, requestLocks(s, ownerOf(i, o.tenant), 1, o.claims, t));
          } else if (kind === 'end' && holdsAll(s, key)) s = apply(s, releaseLocks(s, key, t));
          else if (kind === 'cancel') s = apply(s, releaseLocks(s, key, t));
          checkLive(s);
        }
        for (const key of Object.keys(s.owners)) s = apply(s, releaseLocks(s, key, 0));
        expect(s.locks).toEqual({});
        expect(s.owners).toEqual({});
      }),
      { numRuns: RUNS },
    );
    // The schedules must reach what they are about, or the properties above say little.
    expect(counts.deadlocksBroken).toBeGreaterThan(0);
    expect(counts.grants).toBeGreaterThan(RUNS);
  });
});
