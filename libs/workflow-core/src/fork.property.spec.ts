/**
 * Fork over random runs, at a random revision: the fork starts with exactly the steps done by then (with their
 * outputs), never dispatches one of them, and runs the rest to an end.
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { decide } from './decide.ts';
import { forkOf } from './fork.ts';
import { fold } from './index.ts';
import type { Command, WorkflowEvent } from './messages.ts';
import { isStarted, isTerminalRun, outputOf, stepAt } from './state.ts';
import type { RunData, RunState } from './state.ts';
import { drive, scenario } from './testing/random-runs.ts';

/** What the world does next for the fork: complete what is out, allow and approve gates, fire due retries. */
function next(s: RunData, now: number): Command | null {
  const meta = { now, actor: 'ops:test' };
  for (const st of Object.values(s.steps)) {
    if (st.status === 'running')
      return {
        type: 'RecordStepCompleted',
        data: { stepId: st.id, attempt: st.attempt, phase: 'execute', output: { by: 'fork' } },
        metadata: meta,
      };
    if (st.status === 'waiting_approval') return { type: 'Approve', data: { stepId: st.id }, metadata: meta };
    const asked = stepAt(s, st.id, 'waiting_governance')?.askedDigest;
    if (asked !== undefined)
      return {
        type: 'RecordGovernanceDecision',
        data: { stepId: st.id, outcome: 'allow', policyId: null, reason: 'test', inputDigest: asked },
        metadata: meta,
      };
  }
  const timer = Object.values(s.timers).find((t) => t.kind === 'retry');
  return timer
    ? { type: 'FireTimer', data: { timerId: timer.id }, metadata: { now: Math.max(now, timer.dueAt) } }
    : null;
}

function forkProblems(parent: RunData, revision: number): string[] {
  const fork = forkOf(parent, revision, 'test');
  const now = parent.updatedAt + 1_000;
  const start: Command = {
    type: 'StartRun',
    data: { runId: 'child', definition: parent.definition, input: parent.input, forkedFrom: fork },
    metadata: { now, actor: 'ops:test' },
  };
  const events: WorkflowEvent[] = [...decide(start, { status: 'none', version: 0 }).events];
  let state: RunState = fold(events);
  for (let i = 0; i < 500 && isStarted(state) && !isTerminalRun(state.status); i++) {
    const command = next(state, now + i);
    if (command === null) break;
    const produced = decide(command, state).events;
    events.push(...produced);
    state = fold(produced, state);
  }
  if (!isStarted(state)) return ['the fork did not start'];
  const problems: string[] = [];
  const again = events.filter(
    (e) => e.type === 'StepDispatched' && e.data.phase === 'execute' && fork.steps[e.data.stepId] !== undefined,
  );
  if (again.length > 0) problems.push(`dispatched again: ${again.map((e) => JSON.stringify(e.data)).join('; ')}`);
  for (const [id, done] of Object.entries(fork.steps)) {
    if (JSON.stringify(outputOf(parent.steps[id])) !== JSON.stringify(done.output))
      problems.push(`step ${id} carries another output than the parent's`);
    if (JSON.stringify(outputOf(state.steps[id])) !== JSON.stringify(done.output))
      problems.push(`step ${id} ends with another output than the parent's`);
  }
  if (JSON.stringify(fold(events)) !== JSON.stringify(state)) problems.push('the fold of the stream is not the state');
  return problems;
}

describe('fork over random runs', () => {
  it('at any revision: starts with what was done, dispatches none of it again, and keeps its outputs', () => {
    let carried = 0;
    fc.assert(
      fc.property(scenario, fc.double({ min: 0, max: 1, noNaN: true }), (sc, where) => {
        const { events } = drive(sc);
        const revision = Math.min(events.length - 1, Math.floor(where * events.length));
        const parent = fold(events.slice(0, revision + 1));
        if (!isStarted(parent)) return;
        carried += Object.keys(forkOf(parent, revision, null).steps).length;
        const problems = forkProblems(parent, revision);
        if (problems.length > 0)
          throw new Error(`fork of a ${parent.status} run at ${revision}:\n  ${problems.join('\n  ')}`);
      }),
      { numRuns: 300 },
    );
    // Not vacuous: forks started with steps done.
    expect(carried).toBeGreaterThan(100);
  });
});
