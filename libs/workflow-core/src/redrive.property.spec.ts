/**
 * Re-drive over random ended runs: from any step it is refused with a code, or it re-opens the run so that no
 * idempotency key is used twice, nothing undone is undone again unless it ran again, and the run ends once more.
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { decide } from './decide.ts';
import { DomainError } from './errors.ts';
import { fold } from './index.ts';
import type { Command, WorkflowEvent } from './messages.ts';
import { isStarted, isTerminalRun, stepAt } from './state.ts';
import type { RunData, RunState } from './state.ts';
import { drive, scenario } from './testing/random-runs.ts';
import { ENDINGS } from './testing/run-checks.ts';

const REDRIVABLE = new Set(['failed', 'compensated', 'cancelled']);
const REFUSALS = new Set(['RUN.NOT_REDRIVABLE', 'COMMAND.INVALID']);

/**
 * What the world does next for a re-opened run: complete what is out (or, with `fail`, fail it for good, so the run
 * may compensate again), allow and approve gates, fire due retries.
 */
function next(s: RunData, now: number, fail: boolean): Command | null {
  const meta = { now, actor: 'ops:test' };
  for (const st of Object.values(s.steps)) {
    if (st.status === 'running') {
      const report = { stepId: st.id, attempt: st.attempt, phase: 'execute' as const };
      return fail
        ? {
            type: 'RecordStepFailed',
            data: { ...report, error: { code: 'T', message: 't', retryable: false } },
            metadata: meta,
          }
        : { type: 'RecordStepCompleted', data: { ...report, output: {} }, metadata: meta };
    }
    if (st.status === 'waiting_approval') return { type: 'Approve', data: { stepId: st.id }, metadata: meta };
    const asked = stepAt(s, st.id, 'waiting_governance')?.askedDigest;
    if (asked !== undefined)
      return {
        type: 'RecordGovernanceDecision',
        data: { stepId: st.id, outcome: 'allow', policyId: null, reason: 'test', inputDigest: asked },
        metadata: meta,
      };
  }
  for (const c of Object.values(s.compensations))
    if (c.status === 'running')
      return {
        type: 'RecordStepCompleted',
        data: { stepId: c.stepId, attempt: c.attempt, phase: 'compensate', output: {} },
        metadata: meta,
      };
  const timer = Object.values(s.timers).find((t) => t.kind === 'retry');
  return timer
    ? { type: 'FireTimer', data: { timerId: timer.id }, metadata: { now: Math.max(now, timer.dueAt) } }
    : null;
}

function keysOf(events: readonly WorkflowEvent[]): string[] {
  return events.flatMap((e) => (e.type === 'StepDispatched' ? [e.data.idempotencyKey] : []));
}

/** Re-drives the ended run from `stepId` and drives it on; the problems seen, or the refusal's code. */
function redriveProblems(
  history: readonly WorkflowEvent[],
  ended: RunData,
  stepId: string,
  failAt: number,
): string[] | string {
  const now = ended.updatedAt + 1_000;
  let decided;
  try {
    decided = decide(
      { type: 'Redrive', data: { stepId, reason: 'test' }, metadata: { now, actor: 'ops:test' } },
      ended,
    );
  } catch (error) {
    if (error instanceof DomainError && REFUSALS.has(error.code)) return error.code;
    throw error;
  }
  const events = [...history, ...decided.events];
  let state: RunState = fold(decided.events, ended);
  for (let i = 0; i < 500 && isStarted(state) && !isTerminalRun(state.status); i++) {
    const command = next(state, now + i, i === failAt);
    if (command === null) break;
    const produced = decide(command, state).events;
    events.push(...produced);
    state = fold(produced, state);
  }
  const problems: string[] = [];
  const keys = keysOf(events);
  const reused = keys.filter((k, i) => keys.indexOf(k) !== i);
  if (reused.length > 0) problems.push(`idempotency keys used twice: ${reused.join(', ')}`);
  const reset = decided.events[0];
  if (reset?.type !== 'RunReset') return [`the re-drive began with ${reset?.type ?? 'nothing'}`];
  const after = events.slice(history.length);
  const undoneAgain = after.filter(
    (e) =>
      e.type === 'StepDispatched' && e.data.phase === 'compensate' && reset.data.stillUndone.includes(e.data.stepId),
  );
  if (undoneAgain.length > 0)
    problems.push(`undone twice: ${undoneAgain.map((e) => JSON.stringify(e.data)).join('; ')}`);
  if (after.filter((e) => ENDINGS.has(e.type)).length > 1) problems.push('the re-driven run ended more than once');
  if (JSON.stringify(fold(events)) !== JSON.stringify(state)) problems.push('the fold of the stream is not the state');
  return problems;
}

describe('re-drive over random ended runs', () => {
  it('from every step: refused with a code, or re-opened without a key used twice or a step undone twice', () => {
    const seen = new Map<string, number>();
    fc.assert(
      fc.property(scenario, fc.integer({ min: 0, max: 6 }), (sc, failAt) => {
        const { state, events } = drive(sc);
        if (!isStarted(state) || !REDRIVABLE.has(state.status)) return;
        for (const stepId of state.definition.order) {
          const outcome = redriveProblems(events, state, stepId, failAt);
          const key = typeof outcome === 'string' ? outcome : `re-opened ${state.status}`;
          seen.set(key, (seen.get(key) ?? 0) + 1);
          if (typeof outcome !== 'string' && outcome.length > 0)
            throw new Error(`re-drive of a ${state.status} run from ${stepId}:\n  ${outcome.join('\n  ')}`);
        }
      }),
      { numRuns: 400 },
    );
    // Not vacuous: every kind of ended run was re-opened, and some re-drives were refused.
    expect([...seen.keys()].sort()).toEqual(
      expect.arrayContaining([
        'RUN.NOT_REDRIVABLE',
        're-opened cancelled',
        're-opened compensated',
        're-opened failed',
      ]),
    );
  });
});
