/** A step as written, before validation: any field may be missing or of the wrong type. */
export type RawStep = {
  type?: string;
  worker?: string;
  action?: string;
  needs?: string[];
  join?: string;
  when?: string;
  input?: unknown;
  compensate?: {
    worker?: string;
    action?: string;
    input?: unknown;
    retry?: { initialDelay?: string; maxDelay?: string };
  };
  retry?: { initialDelay?: string; maxDelay?: string };
  timeout?: string;
  heartbeatTimeout?: string;
  governanceTimeout?: string;
  sideEffect?: boolean;
  escalateTo?: unknown;
  escalateAfter?: string;
  event?: unknown;
  match?: unknown;
  onTimeout?: unknown;
  workflow?: unknown;
  parentClosePolicy?: unknown;
  locks?: unknown;
};

export function needsOf(step: RawStep | undefined): string[] {
  return step && Array.isArray(step.needs) ? step.needs.filter((n): n is string => typeof n === 'string') : [];
}

/** Every step upstream of each step: its needs, their needs, and so on. */
export function upstreamSets(steps: Record<string, RawStep>): Map<string, Set<string>> {
  const memo = new Map<string, Set<string>>();
  const of = (id: string): Set<string> => {
    const known = memo.get(id);
    if (known) return known;
    const set = new Set<string>();
    memo.set(id, set);
    for (const need of needsOf(steps[id])) {
      if (!Object.hasOwn(steps, need)) continue;
      set.add(need);
      for (const up of of(need)) set.add(up);
    }
    return set;
  };
  for (const id of Object.keys(steps)) of(id);
  return memo;
}

/**
 * The steps certain to have completed, with their output, when each step's expressions run (its join is met).
 * Under all_success every need has completed or been skipped: a need without `when` has completed, and so has
 * everything certain for it. all_done waits for needs that may have failed: nothing is certain. any_success,
 * majority and quorum(n) wait for some needs, any of which may be the ones that have not finished: only what is
 * certain for every need is certain. An operator's skip is outside this: the operator answers for that output.
 * The graph must have no cycles.
 */
export function settledSets(steps: Record<string, RawStep>): Map<string, ReadonlySet<string>> {
  const memo = new Map<string, ReadonlySet<string>>();
  const of = (id: string): ReadonlySet<string> => {
    const known = memo.get(id);
    if (known) return known;
    const needs = needsOf(steps[id]).filter((n) => Object.hasOwn(steps, n) && n !== id);
    const join = steps[id]?.join ?? 'all_success';
    let set: ReadonlySet<string>;
    if (needs.length === 0 || join === 'all_done') set = new Set();
    else if (join === 'all_success')
      set = new Set(needs.flatMap((n) => [...of(n), ...(steps[n]?.when === undefined ? [n] : [])]));
    else set = new Set([...of(needs[0] as string)].filter((s) => needs.every((n) => of(n).has(s))));
    memo.set(id, set);
    return set;
  };
  for (const id of Object.keys(steps)) of(id);
  return memo;
}

/** Each elementary cycle reachable by DFS, reported once, as the path that closes it. */
export function findCycles(steps: Record<string, RawStep>): string[][] {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  const seen = new Set<string>();
  const dfs = (id: string): void => {
    state.set(id, 'open');
    stack.push(id);
    for (const need of needsOf(steps[id])) {
      if (!Object.hasOwn(steps, need) || need === id) continue;
      if (state.get(need) === 'open') {
        const cycle = [...stack.slice(stack.indexOf(need)), need];
        const key = [...cycle.slice(0, -1)].sort().join(',');
        if (!seen.has(key)) {
          seen.add(key);
          cycles.push(cycle.reverse());
        }
      } else if (!state.has(need)) dfs(need);
    }
    stack.pop();
    state.set(id, 'done');
  };
  for (const id of Object.keys(steps)) if (!state.has(id)) dfs(id);
  return cycles;
}
