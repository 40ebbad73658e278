/** The lock table's state and keys (lock-table.ts decides and folds; lock-cycles.ts finds cycles of waits). */
import type { LockClaim, Phase } from './messages.ts';

export interface LockOwner {
  readonly tenant: string;
  readonly runId: string;
  readonly stepId: string;
  readonly phase: Phase;
}

export type LockMode = LockClaim['mode'];

export interface LockEntry {
  readonly holders: readonly { readonly owner: string; readonly mode: LockMode }[];
  readonly queue: readonly { readonly owner: string; readonly mode: LockMode }[];
}

export interface OwnerEntry {
  readonly owner: LockOwner;
  /** The attempt the grant releases (a later attempt that asks again while this one waits replaces it). */
  readonly attempt: number;
  readonly claims: readonly LockClaim[];
  /** How many of `claims` it holds, in order: it waits for `claims[granted]` while that is short of all. */
  readonly granted: number;
  /** Order of asking, across the table: the youngest waiter of a cycle is the one with the highest. */
  readonly seq: number;
  readonly since: number;
}

export interface LockTableState {
  readonly version: number;
  readonly seq: number;
  /** By lock key (`lockKey`: tenant and name); a lock nobody holds or waits for is not here. */
  readonly locks: Readonly<Record<string, LockEntry>>;
  readonly owners: Readonly<Record<string, OwnerEntry>>;
}

export function ownerKey(o: LockOwner): string {
  return `${o.tenant}/${o.runId}/${o.phase}/${o.stepId}`;
}

/** Lock names are per tenant: a tenant cannot hold or block another's lock of the same name. */
export function lockKey(tenant: string, name: string): string {
  return `${tenant}:${name}`;
}
