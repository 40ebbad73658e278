/**
 * The lock table: an event-sourced aggregate of its own (one stream), beside the runs. An owner is one phase of
 * one step of one run; it takes its locks one at a time, in the order the step declares them, and each lock is
 * granted in FIFO order: the head of its queue gets it when no holder conflicts (shared with shared only), and
 * nobody overtakes the head. A cycle of waits is found in the same decision that closes it and broken at once by
 * failing the youngest waiter in it (lock-cycles.ts). Pure, like the run's decider: time comes in as an argument.
 */
import { describeCycle, findCycle } from './lock-cycles.ts';
import type { CycleLink } from './lock-cycles.ts';
import type { LockClaim } from './messages.ts';
import { lockKey, ownerKey } from './lock-model.ts';
import type { LockEntry, LockMode, LockOwner, LockTableState, OwnerEntry } from './lock-model.ts';

export { lockKey, ownerKey } from './lock-model.ts';
export type { LockEntry, LockMode, LockOwner, LockTableState, OwnerEntry } from './lock-model.ts';

export type LockTableEvent =
  | {
      readonly type: 'LocksRequested';
      readonly data: {
        readonly owner: LockOwner;
        readonly attempt: number;
        readonly claims: readonly LockClaim[];
        readonly seq: number;
        readonly at: number;
      };
    }
  | { readonly type: 'LockWaitRenewed'; readonly data: { readonly owner: string; readonly attempt: number } }
  | {
      readonly type: 'LockGranted';
      readonly data: { readonly owner: string; readonly name: string; readonly mode: LockMode; readonly at: number };
    }
  | {
      readonly type: 'DeadlockBroken';
      readonly data: {
        readonly victim: string;
        /** The victim's run, step and phase, and the attempt that fails (the victim is gone from the table after). */
        readonly owner: LockOwner;
        readonly attempt: number;
        readonly cycle: readonly CycleLink[];
        /** The cycle in words (describeCycle), as the failed step's error says it. */
        readonly message: string;
        readonly at: number;
      };
    }
  | {
      readonly type: 'LocksReleased';
      readonly data: { readonly owner: string; readonly reason: 'ended' | 'deadlock'; readonly at: number };
    };

export const initialLockTable = (): LockTableState => ({ version: 0, seq: 0, locks: {}, owners: {} });

/**
 * An owner asks for its locks. Asking again (a recovery, a later attempt) records nothing new, except which
 * attempt a grant still to come releases.
 */
export function requestLocks(
  state: LockTableState,
  owner: LockOwner,
  attempt: number,
  claims: readonly LockClaim[],
  now: number,
): LockTableEvent[] {
  const key = ownerKey(owner);
  const known = state.owners[key];
  if (known !== undefined) {
    const waiting = known.granted < known.claims.length;
    return waiting && attempt > known.attempt ? [{ type: 'LockWaitRenewed', data: { owner: key, attempt } }] : [];
  }
  if (claims.length === 0) return [];
  const asked: LockTableEvent = {
    type: 'LocksRequested',
    data: { owner, attempt, claims, seq: state.seq + 1, at: now },
  };
  return settleTable(state, [asked], now);
}

/** An owner ended: its locks go, its place in any queue too, and the next waiters get what they can. */
export function releaseLocks(state: LockTableState, key: string, now: number): LockTableEvent[] {
  if (state.owners[key] === undefined) return [];
  return settleTable(state, [{ type: 'LocksReleased', data: { owner: key, reason: 'ended', at: now } }], now);
}

/** Grants what can be granted, then breaks every cycle of waits that is left, youngest waiter first. */
function settleTable(state: LockTableState, primary: LockTableEvent[], now: number): LockTableEvent[] {
  const events = [...primary];
  let s = primary.reduce(evolveLockTable, state);
  for (let guard = Object.keys(s.owners).length + 1; guard >= 0; guard--) {
    const granted = grants(s, now);
    events.push(...granted);
    s = granted.reduce(evolveLockTable, s);
    const cycle = findCycle(s);
    if (cycle === null) return events;
    const victim = youngest(s, cycle);
    const entry = s.owners[victim];
    if (entry === undefined) throw new Error(`lock table: the victim ${victim} is not in it (a bug in lock-table.ts)`);
    const { owner, attempt } = entry;
    const message = describeCycle(s, cycle, victim);
    const broken: LockTableEvent[] = [
      { type: 'DeadlockBroken', data: { victim, owner, attempt, cycle, message, at: now } },
      { type: 'LocksReleased', data: { owner: victim, reason: 'deadlock', at: now } },
    ];
    events.push(...broken);
    s = broken.reduce(evolveLockTable, s);
  }
  throw new Error('the lock table did not settle: a bug in lock-table.ts');
}

function youngest(s: LockTableState, cycle: readonly CycleLink[]): string {
  let victim = cycle[0]?.waiter ?? '';
  for (const link of cycle) if ((s.owners[link.waiter]?.seq ?? 0) > (s.owners[victim]?.seq ?? 0)) victim = link.waiter;
  return victim;
}

/** Every grant the table can make now: queue heads that conflict with no holder, until none is left. */
function grants(state: LockTableState, now: number): LockTableEvent[] {
  const events: LockTableEvent[] = [];
  let s = state;
  for (let more = true; more;) {
    more = false;
    for (const [lk, entry] of Object.entries(s.locks)) {
      const head = entry.queue[0];
      if (head === undefined || !compatible(head.mode, entry.holders)) continue;
      const o = s.owners[head.owner];
      const claim = o?.claims[o.granted];
      if (claim === undefined || lockKey(o!.owner.tenant, claim.name) !== lk)
        throw new Error(`lock ${lk}: the head of its queue does not wait for it (a bug in lock-table.ts)`);
      const grant: LockTableEvent = {
        type: 'LockGranted',
        data: { owner: head.owner, name: claim.name, mode: head.mode, at: now },
      };
      events.push(grant);
      s = evolveLockTable(s, grant);
      more = true;
    }
  }
  return events;
}

export function compatible(mode: LockMode, holders: LockEntry['holders']): boolean {
  return holders.length === 0 || (mode === 'shared' && holders.every((h) => h.mode === 'shared'));
}

export function evolveLockTable(s: LockTableState, event: LockTableEvent): LockTableState {
  const version = s.version + 1;
  switch (event.type) {
    case 'LocksRequested': {
      const { owner, attempt, claims, seq, at } = event.data;
      const key = ownerKey(owner);
      const entry: OwnerEntry = { owner, attempt, claims, granted: 0, seq, since: at };
      return enqueue({ ...s, version, seq, owners: { ...s.owners, [key]: entry } }, key);
    }
    case 'LockWaitRenewed': {
      const o = s.owners[event.data.owner];
      if (o === undefined) return { ...s, version };
      return { ...s, version, owners: { ...s.owners, [event.data.owner]: { ...o, attempt: event.data.attempt } } };
    }
    case 'LockGranted': {
      const { owner: key, mode } = event.data;
      const o = s.owners[key];
      if (o === undefined) return { ...s, version };
      const lk = lockKey(o.owner.tenant, event.data.name);
      const entry = s.locks[lk] ?? { holders: [], queue: [] };
      const moved: LockEntry = {
        holders: [...entry.holders, { owner: key, mode }],
        queue: entry.queue.filter((w) => w.owner !== key),
      };
      const next = { ...s, version, locks: { ...s.locks, [lk]: moved } };
      return enqueue({ ...next, owners: { ...s.owners, [key]: { ...o, granted: o.granted + 1 } } }, key);
    }
    case 'DeadlockBroken':
      return { ...s, version };
    case 'LocksReleased':
      return dropOwner({ ...s, version }, event.data.owner);
  }
}

/** Puts the owner in the queue of the next lock it takes, if it has one left to take. */
function enqueue(s: LockTableState, key: string): LockTableState {
  const o = s.owners[key];
  const claim = o?.claims[o.granted];
  if (o === undefined || claim === undefined) return s;
  const lk = lockKey(o.owner.tenant, claim.name);
  const entry = s.locks[lk] ?? { holders: [], queue: [] };
  return { ...s, locks: { ...s.locks, [lk]: { ...entry, queue: [...entry.queue, { owner: key, mode: claim.mode }] } } };
}

function dropOwner(s: LockTableState, key: string): LockTableState {
  const o = s.owners[key];
  if (o === undefined) return s;
  const locks = { ...s.locks };
  for (const claim of o.claims) {
    const lk = lockKey(o.owner.tenant, claim.name);
    const entry = locks[lk];
    if (entry === undefined) continue;
    const kept: LockEntry = {
      holders: entry.holders.filter((h) => h.owner !== key),
      queue: entry.queue.filter((w) => w.owner !== key),
    };
    if (kept.holders.length === 0 && kept.queue.length === 0) delete locks[lk];
    else locks[lk] = kept;
  }
  const owners = { ...s.owners };
  delete owners[key];
  return { ...s, locks, owners };
}

/** Whether the owner holds every lock it asked for. */
export function holdsAll(s: LockTableState, key: string): boolean {
  const o = s.owners[key];
  return o !== undefined && o.granted === o.claims.length;
}
