import { describe, expect, it } from '@jest/globals';
import type { RunView, StepView } from './api.types.ts';
import { runViewLines } from './run.view.ts';

const gate = (extra: Partial<StepView>): StepView => ({
  id: 'gate',
  type: 'approval',
  worker: null,
  needs: [],
  status: 'waiting_approval',
  attempt: 0,
  input: null,
  output: null,
  error: null,
  governance: null,
  skipKind: null,
  startedAt: null,
  finishedAt: null,
  compensation: null,
  held: null,
  assignees: ['role:finance'],
  escalatedTo: null,
  ...extra,
});
const run = (step: StepView): RunView => ({
  id: 'r1',
  definition: { id: 'wf', version: 1, name: null },
  status: 'running',
  input: {},
  startedBy: 'alice',
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T01:00:00.000Z',
  attention: null,
  failure: null,
  steps: [step],
  forkedFrom: null,
  version: 4,
});
const gateLine = (step: StepView) =>
  runViewLines(run(step), null, false, { past: true }).find((l) => l.startsWith('gate'));

describe('the run view', () => {
  it('says whom a waiting approval was escalated to', () => {
    expect(gateLine(gate({}))).toMatch(/^gate\s+waiting_approval\s+0/);
    expect(gateLine(gate({ assignees: ['role:finance', 'group:hr'], escalatedTo: ['group:hr'] }))).toMatch(
      /^gate\s+waiting_approval \(escalated to group:hr\)\s+0/,
    );
  });
});
