/**
 * Cycles of waits in the lock table. An owner waiting for a lock waits for every holder of it that conflicts with
 * what it asks, and for every owner ahead of it in the lock's queue that conflicts (FIFO: nobody overtakes). An
 * owner that waits for nothing will end on its own (its worker finishes, or its timeout fires), so only a cycle
 * among waiters never resolves.
 */
import { lockKey } from './lock-model.ts';
import type { LockMode, LockTableState } from './lock-model.ts';

/** One wait in a cycle: `waiter` waits for `lock`, which `blocker` holds or is ahead for in its queue. */
export interface CycleLink {
  readonly waiter: string;
  readonly lock: string;
  readonly blocker: string;
  readonly how: 'holds' | 'queued_ahead';
}

function conflicts(a: LockMode, b: LockMode): boolean {
  return a === 'exclusive' || b === 'exclusive';
}

/** Whom the owner waits for, and why; empty when it holds all it asked for. */
export function blockersOf(s: LockTableState, key: string): CycleLink[] {
  const o = s.owners[key];
  const claim = o?.claims[o.granted];
  if (o === undefined || claim === undefined) return [];
  const entry = s.locks[lockKey(o.owner.tenant, claim.name)];
  if (entry === undefined) return [];
  const links: CycleLink[] = [];
  for (const h of entry.holders)
    if (h.owner !== key && conflicts(h.mode, claim.mode))
      links.push({ waiter: key, lock: claim.name, blocker: h.owner, how: 'holds' });
  for (const w of entry.queue) {
    if (w.owner === key) break;
    if (conflicts(w.mode, claim.mode))
      links.push({ waiter: key, lock: claim.name, blocker: w.owner, how: 'queued_ahead' });
  }
  return links;
}

/** A cycle of waits, oldest waiter first in the search; null when there is none. */
export function findCycle(s: LockTableState): CycleLink[] | null {
  const waiting = Object.entries(s.owners)
    .filter(([, o]) => o.granted < o.claims.length)
    .sort(([, a], [, b]) => a.seq - b.seq)
    .map(([key]) => key);
  const done = new Set<string>();
  for (const start of waiting) {
    if (done.has(start)) continue;
    const cycle = searchFrom(s, start, done);
    if (cycle !== null) return cycle;
  }
  return null;
}

/** Depth-first from `start`, iteratively; `path` holds the links taken, `onPath` where each owner entered it. */
function searchFrom(s: LockTableState, start: string, done: Set<string>): CycleLink[] | null {
  const path: CycleLink[] = [];
  const onPath = new Map<string, number>([[start, 0]]);
  const stack: { key: string; links: CycleLink[]; next: number }[] = [
    { key: start, links: blockersOf(s, start), next: 0 },
  ];
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const link = top.links[top.next++];
    if (link === undefined) {
      stack.pop();
      onPath.delete(top.key);
      done.add(top.key);
      path.pop();
      continue;
    }
    const at = onPath.get(link.blocker);
    if (at !== undefined) return [...path.slice(at), link];
    if (done.has(link.blocker)) continue;
    path.push(link);
    onPath.set(link.blocker, stack.length);
    stack.push({ key: link.blocker, links: blockersOf(s, link.blocker), next: 0 });
  }
  return null;
}

/** The cycle in words, naming each run, step and lock, and the waiter that fails to break it. */
export function describeCycle(s: LockTableState, cycle: readonly CycleLink[], victim: string): string {
  const who = (key: string): string => {
    const o = s.owners[key]?.owner;
    if (o === undefined) return key;
    return `run ${o.runId} step ${JSON.stringify(o.stepId)}${o.phase === 'compensate' ? ' (compensating)' : ''}`;
  };
  const links = cycle.map(
    (l) =>
      `${who(l.waiter)} waits for lock ${JSON.stringify(l.lock)}, ${l.how === 'holds' ? 'held by' : 'queued for first by'} ${who(l.blocker)}`,
  );
  return `deadlock: ${links.join('; ')}; ${who(victim)} is the youngest waiter in the cycle and fails`;
}
