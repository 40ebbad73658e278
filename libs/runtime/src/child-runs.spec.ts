import { describe, expect, it } from '@jest/globals';
import { DomainError, initialState } from '@orchestron/workflow-core';
import type { Command } from '@orchestron/workflow-core';
import { ChildRuns } from './child-runs.ts';
import type { ChildRunsDeps } from './child-runs.ts';
import type { Applied } from './run-commands.ts';
import { eventually } from './testing/index.ts';

/** The background work between parent and child runs: what is retried, what is not, and that stop cuts it short. */
const outcome = { stepId: 'provision', childRunId: 'c-1', status: 'completed' as const, output: { ok: true } };
const applied: Applied = { state: initialState(), events: [], effects: [], unapplied: null };

function childRuns(apply: (runId: string, command: Command) => Promise<Applied>) {
  const logged: string[] = [];
  const deps: ChildRunsDeps = {
    clock: { now: () => 1_700_000_000_000 },
    logger: {
      debug: () => undefined,
      info: () => undefined,
      warn: (message) => logged.push(`warn ${message}`),
      error: (message) => logged.push(`error ${message}`),
    },
    governed: false,
    resolve: async () => {
      throw new Error('not used');
    },
    load: async () => initialState(),
    apply,
  };
  return { runs: new ChildRuns(deps), logged };
}

describe('ChildRuns in the background', () => {
  it('retries a report the store refused for a reason of its own, until it is taken', async () => {
    const calls: Command[] = [];
    const { runs } = childRuns(async (_runId, command) => {
      calls.push(command);
      if (calls.length < 3) throw new Error('connection refused');
      return applied;
    });
    runs.reportToParent('parent-1', outcome);
    await eventually('the third try', () => calls.length === 3);
    expect(calls.map((c) => c.type)).toEqual(['RecordChildOutcome', 'RecordChildOutcome', 'RecordChildOutcome']);
    expect(calls[2]).toMatchObject({ data: outcome, metadata: { actor: 'system:child' } });
    await runs.stop();
  });

  it('does not retry what the domain refused, and says so', async () => {
    let calls = 0;
    const { runs, logged } = childRuns(async () => {
      calls++;
      throw new DomainError('RUN.NOT_FOUND', 'the run does not exist');
    });
    runs.reportToParent('parent-1', outcome);
    await eventually('the error logged', () => logged.length > 0);
    expect(calls).toBe(1);
    expect(logged).toEqual([
      'error could not report a child run to its parent; it is tried again when the parent run is recovered',
    ]);
    await runs.stop();
  });

  it('stops without waiting out a retry delay, and takes no more work', async () => {
    let calls = 0;
    const { runs } = childRuns(async () => {
      calls++;
      throw new Error('connection refused');
    });
    runs.reportToParent('parent-1', outcome);
    await eventually('two tries', () => calls >= 2);
    const before = calls;
    const started = Date.now();
    await runs.stop();
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(calls).toBe(before);
    runs.reportToParent('parent-1', outcome);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(calls).toBe(before);
  });
});
