/**
 * The lock table as an operator reads it (GET /v1/locks, `orchestron locks`): per lock, who holds it and who waits
 * for it, in the order they will get it. Pure: a view of a LockTableState, as toRunView is of a run.
 */
import { lockKey, ownerKey } from '@orchestron/workflow-core';
import type { LockMode, LockTableState, OwnerEntry, Phase } from '@orchestron/workflow-core';

export interface LockHolderView {
  readonly runId: string;
  readonly stepId: string;
  readonly phase: Phase;
  readonly mode: LockMode;
}

export interface LockWaiterView extends LockHolderView {
  /** When the step asked for its locks (ISO). */
  readonly since: string;
}

export interface LockView {
  readonly tenant: string;
  readonly name: string;
  readonly holders: readonly LockHolderView[];
  /** First in line first: the table grants in this order, and nobody overtakes the head. */
  readonly waiting: readonly LockWaiterView[];
}

export interface LockViewFilter {
  /** One tenant's locks; undefined: every tenant's. */
  readonly tenant?: string | undefined;
  /** At most this many locks; undefined: all. */
  readonly limit?: number | undefined;
}

/** The locks someone holds or waits for, sorted by tenant, then name. */
export function toLockViews(state: LockTableState, filter: LockViewFilter = {}): LockView[] {
  const ownerOf = (lock: string, key: string): OwnerEntry => {
    const o = state.owners[key];
    if (o === undefined) throw new Error(`lock ${lock}: ${key} is in it but not among the table's owners`);
    return o;
  };
  const views: LockView[] = [];
  for (const [lock, entry] of Object.entries(state.locks)) {
    const first = ownerOf(lock, (entry.holders[0] ?? entry.queue[0])?.owner ?? '');
    const { tenant } = first.owner;
    if (filter.tenant !== undefined && tenant !== filter.tenant) continue;
    // The key is lockKey(tenant, name): the name is that of the claim that makes it.
    const claim = first.claims.find((c) => lockKey(tenant, c.name) === lock);
    if (claim === undefined) throw new Error(`lock ${lock}: ${ownerKey(first.owner)} does not claim it`);
    const holders = entry.holders.map((h) => ({ ...placeOf(ownerOf(lock, h.owner)), mode: h.mode }));
    const waiting = entry.queue.map((w) => {
      const o = ownerOf(lock, w.owner);
      return { ...placeOf(o), mode: w.mode, since: new Date(o.since).toISOString() };
    });
    views.push({ tenant, name: claim.name, holders, waiting });
  }
  views.sort((a, b) => compare(a.tenant, b.tenant) || compare(a.name, b.name));
  return filter.limit === undefined ? views : views.slice(0, filter.limit);
}

function placeOf({ owner }: OwnerEntry): Omit<LockHolderView, 'mode'> {
  return { runId: owner.runId, stepId: owner.stepId, phase: owner.phase };
}

/** By code unit, so the order does not depend on the host's locale. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
