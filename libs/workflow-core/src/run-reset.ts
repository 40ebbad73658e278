import type { RunResetData } from './messages.ts';
import type { RunData } from './state.ts';
import { toPending } from './step-transitions.ts';

/**
 * The fold of `RunReset`: the run is running again; the steps named go back to pending with a fresh attempt budget
 * (their attempt numbers go on, so no idempotency key is used twice); a compensation of theirs is marked `reset`,
 * to be dispatched again, with its attempt numbers going on, only if the step completes and is undone again.
 */
export function reopen(s: RunData, d: RunResetData): RunData {
  const steps = { ...s.steps };
  const compensations = { ...s.compensations };
  for (const id of d.steps) {
    const st = steps[id];
    if (st === undefined) continue;
    const inputOverride = id === d.fromStepId ? d.input : undefined;
    steps[id] = toPending(st, { governance: null, inputOverride, attemptBase: st.attempt });
    const comp = compensations[id];
    if (comp !== undefined)
      compensations[id] = {
        ...comp,
        status: 'reset',
        attemptBase: comp.attempt,
        inputOverride: undefined,
        error: null,
        retryDue: false,
        held: null,
      };
  }
  return {
    ...s,
    status: 'running',
    phase: 'execute',
    steps,
    compensations,
    timers: {},
    pausedFrom: null,
    attention: null,
    failure: null,
  };
}
