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
  parent: null,
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

describe('an event step in the run view', () => {
  it('shows the event and key it waits for, until when, and how to send it', () => {
    const waits = gate({
      id: 'signed',
      type: 'event',
      status: 'waiting_event',
      assignees: undefined,
      escalatedTo: undefined,
      waitsFor: { event: 'contract.signed', key: 'C-1', since: 'x', timeoutAt: '2026-01-01T02:00:00.000Z' },
    } as Partial<StepView>);
    const lines = runViewLines(run(waits), null, false);
    expect(lines.find((l) => l.startsWith('signed'))).toMatch(
      /^signed +waiting_event \(contract\.signed "C-1"\) +0 +\(event\)/,
    );
    expect(lines).toContain(
      'Waiting: signed waits for event contract.signed with key "C-1" until 2026-01-01T02:00:00.000Z (orchestron send-event contract.signed --key "C-1" --id <id> --payload <json>)',
    );
  });
});

describe('a held step in the run view', () => {
  it('shows why flow control holds it, a rate limit included', () => {
    const held = gate({
      id: 'charge',
      type: 'task',
      worker: 'payments',
      status: 'running',
      attempt: 1,
      assignees: undefined,
      held: { reason: 'rate_limit', worker: 'payments', since: '2026-01-01T00:59:00.000Z' },
    } as Partial<StepView>);
    const line = runViewLines(run(held), null, false, { past: true }).find((l) => l.startsWith('charge'));
    expect(line).toMatch(/^charge\s+running \(held: rate_limit\)\s+1\s+payments/);
  });

  it('names the locks a step waits for', () => {
    const held = gate({
      id: 'charge',
      type: 'task',
      worker: 'payments',
      status: 'running',
      attempt: 1,
      assignees: undefined,
      held: { reason: 'lock', worker: 'payments', since: '2026-01-01T00:59:00.000Z', locks: ['vendor-account-A1'] },
    } as Partial<StepView>);
    const line = runViewLines(run(held), null, false, { past: true }).find((l) => l.startsWith('charge'));
    expect(line).toMatch(/^charge\s+running \(held: lock vendor-account-A1\)\s+1\s+payments/);
  });
});

describe('child workflows in the run view', () => {
  const provision = gate({
    id: 'provision',
    type: 'workflow',
    status: 'waiting_child',
    attempt: 1,
    assignees: undefined,
    escalatedTo: undefined,
    childRunId: 'c-1',
    workflow: { id: 'provision-user', version: 2 },
  } as Partial<StepView>);

  it("shows a workflow step's definition and the child run it started, with how to look at it", () => {
    const lines = runViewLines(run(provision), null, false);
    expect(lines.find((l) => l.startsWith('provision'))).toMatch(
      /^provision +waiting_child +1 +\(workflow provision-user v2\)/,
    );
    expect(lines).toContain('Child: provision started run c-1 (waiting_child): orchestron status c-1');
  });

  it('shows a child run its parent run and step', () => {
    const childRun = { ...run(gate({})), id: 'c-1', parent: { runId: 'r1', stepId: 'provision', depth: 1 } };
    expect(runViewLines(childRun, null, false)).toContain(
      'child of run r1 (step provision, depth 1): orchestron status r1',
    );
    expect(runViewLines(run(gate({})), null, false).some((l) => l.startsWith('child of'))).toBe(false);
  });
});
