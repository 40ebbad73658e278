import { effectsOf } from './effects.ts';
import type { Effect, SendData } from './effects.ts';
import { evolve } from './evolve.ts';
import type { WorkflowEvent } from './messages.ts';
import { attemptIsOut, heldOf, initialState, isStarted, isTerminalRun } from './state.ts';
import type { RunState } from './state.ts';
import type { Hold } from './step-state.ts';

/** What a runtime taking a run over must do again: attempts still out, and governance checks still unanswered. */
export interface Outstanding {
  readonly state: RunState;
  /** Attempts still out, each with the hold flow control put on it, if any (then it waits for a release, not a send). */
  readonly sends: readonly { readonly data: SendData; readonly held: Hold | null }[];
  /** Governance checks a step still waits for. */
  readonly asks: readonly Effect[];
  /** Event waits still open: the event may have been handed over by a process that died before the run took it. */
  readonly awaits: readonly Effect[];
}

/**
 * From a run's events alone: the attempts and checks whose effects may not have happened (the process that decided
 * them died, or the run moved to another instance). Doing them again is safe: workers drop what they have done,
 * by idempotency key, and a second ruling about the same input changes nothing.
 */
export function outstanding(events: readonly WorkflowEvent[]): Outstanding {
  let state: RunState = initialState();
  const lastSend = new Map<string, SendData>();
  const lastAsk = new Map<string, Effect>();
  const lastAwait = new Map<string, Effect>();
  for (const event of events) {
    state = evolve(state, event);
    for (const effect of effectsOf(event)) {
      if (effect.type === 'SendStep') lastSend.set(`${effect.data.phase}/${effect.data.stepId}`, effect.data);
      if (effect.type === 'AskGovernance') lastAsk.set(effect.data.stepId, effect);
      if (effect.type === 'AwaitEvent') lastAwait.set(effect.data.stepId, effect);
    }
  }
  if (!isStarted(state) || isTerminalRun(state.status)) return { state, sends: [], asks: [], awaits: [] };
  const run = state;
  const sends = [...lastSend.values()]
    .filter((data) => attemptIsOut(run, data.stepId, data.attempt, data.phase))
    .map((data) => {
      const held = data.phase === 'execute' ? heldOf(run.steps[data.stepId]) : run.compensations[data.stepId]?.held;
      return { data, held: held ?? null };
    });
  const asks = [...lastAsk.entries()]
    .filter(([stepId]) => run.steps[stepId]?.status === 'waiting_governance')
    .map(([, ask]) => ask);
  const awaits = [...lastAwait.entries()]
    .filter(([stepId]) => run.steps[stepId]?.status === 'waiting_event')
    .map(([, wait]) => wait);
  return { state, sends, asks, awaits };
}
