import type { RunView, StepView } from './api.types.ts';

/** Builders for wire views in unit tests: only what a test cares about is spelled out. */
export function aStep(id: string, overrides: Partial<StepView> = {}): StepView {
  return {
    id,
    type: 'task',
    worker: 'identity',
    needs: [],
    status: 'pending',
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
    ...overrides,
  };
}

export function aRun(steps: readonly StepView[], overrides: Partial<RunView> = {}): RunView {
  return {
    id: 'run-1',
    definition: { id: 'employee-onboarding', version: 1, name: 'Employee onboarding' },
    status: 'running',
    input: { email: 'a@b.c' },
    startedBy: 'admin',
    createdAt: '2025-01-01T00:00:00.000Z',
    updatedAt: '2025-01-01T00:00:01.500Z',
    attention: null,
    failure: null,
    steps,
    forkedFrom: null,
    parent: null,
    version: 1,
    ...overrides,
  };
}
