/**
 * Random workflows for the decider's property tests: a DAG of 1–30 steps (needs only on earlier steps, joins
 * valid for their need count, compensations, retries, conditions on input flags, approvals, some escalating to a
 * second level, event steps, workflow steps, side effects), and the random actions a history is made of.
 */
import fc from 'fast-check';
import { compileDefinition } from '@orchestron/definitions';
import type { CompiledDefinition } from '@orchestron/definitions';

export const T0 = 1_700_000_000_000;
const FLAGS = 4;
const JOINS = ['all_success', 'any_success', 'majority', 'all_done', 'quorum'] as const;

export interface StepSpec {
  readonly needs: readonly number[];
  readonly join: number;
  readonly quorum: number;
  readonly approval: boolean;
  /** An event step (`type: event`), unless it is an approval; its timeout is the approval's (`skip` for `fail` with escalateTo). */
  readonly event: boolean;
  /** A workflow step (`type: workflow`), unless it is an approval or an event step; `flag` picks its close policy. */
  readonly child: boolean;
  readonly sideEffect: boolean;
  readonly compensate: boolean;
  readonly maxAttempts: number;
  readonly compensationAttempts: number;
  readonly when: number | null;
  readonly heartbeat: boolean;
  readonly approvalTimeout: 'none' | 'escalate' | 'fail';
  /** With an approval timeout: a second level (`escalateTo`) before onTimeout applies. */
  readonly escalateTo: boolean;
  /** A governance deadline short enough for random histories to reach (otherwise the default 60s). */
  readonly shortGovernanceTimeout: boolean;
}

export interface WorkflowSpec {
  readonly steps: readonly StepSpec[];
  readonly onFailure: 'compensate' | 'escalate' | 'fail';
  readonly flags: readonly boolean[];
}

const stepSpec = (index: number): fc.Arbitrary<StepSpec> =>
  fc.record({
    needs: index === 0 ? fc.constant([]) : fc.uniqueArray(fc.nat(index - 1), { maxLength: Math.min(index, 4) }),
    join: fc.nat(JOINS.length - 1),
    quorum: fc.nat(3),
    approval: fc.nat(9).map((n) => n === 0),
    event: fc.nat(9).map((n) => n === 1),
    child: fc.nat(9).map((n) => n === 2),
    sideEffect: fc.nat(9).map((n) => n < 2),
    compensate: fc.boolean(),
    maxAttempts: fc.integer({ min: 1, max: 3 }),
    compensationAttempts: fc.integer({ min: 1, max: 3 }),
    when: fc.option(fc.nat(FLAGS - 1), { freq: 4 }),
    heartbeat: fc.nat(3).map((n) => n === 0),
    approvalTimeout: fc.constantFrom('none', 'escalate', 'fail'),
    escalateTo: fc.boolean(),
    shortGovernanceTimeout: fc.boolean(),
  });

export const workflowSpec: fc.Arbitrary<WorkflowSpec> = fc.integer({ min: 1, max: 30 }).chain((n) =>
  fc.record({
    steps: fc.tuple(...Array.from({ length: n }, (_, i) => stepSpec(i))),
    onFailure: fc.constantFrom('compensate', 'escalate', 'fail'),
    flags: fc.array(fc.boolean(), { minLength: FLAGS, maxLength: FLAGS }),
  }),
);

export const stepId = (i: number): string => `s${i}`;

export function joinOf(spec: StepSpec): string | undefined {
  if (spec.needs.length === 0) return undefined;
  const kind = JOINS[spec.join] ?? 'all_success';
  return kind === 'quorum' ? `quorum(${1 + (spec.quorum % spec.needs.length)})` : kind;
}

/** A need's output, read behind the guard a definition needs when the join may not wait for that need (docs/definitions.md). */
function guardedOutput(id: string): string {
  return `\${{ steps['${id}'].status == 'completed' ? steps['${id}'].output : null }}`;
}

export function buildDefinition(spec: WorkflowSpec): CompiledDefinition {
  const steps: Record<string, unknown> = {};
  spec.steps.forEach((s, i) => {
    const common = {
      needs: s.needs.map(stepId),
      ...(joinOf(s) === undefined ? {} : { join: joinOf(s) }),
      ...(s.when === null ? {} : { when: `\${{ input.f${s.when} }}` }),
    };
    if (s.approval) {
      steps[stepId(i)] = {
        type: 'approval',
        ...common,
        ...(s.approvalTimeout === 'none' ? {} : { timeout: '1h', onTimeout: s.approvalTimeout }),
        ...(s.approvalTimeout !== 'none' && s.escalateTo ? { escalateTo: ['role:second'], escalateAfter: '30m' } : {}),
      };
      return;
    }
    if (s.event) {
      const onTimeout = s.approvalTimeout === 'fail' && s.escalateTo ? 'skip' : s.approvalTimeout;
      steps[stepId(i)] = {
        type: 'event',
        ...common,
        event: 'random.event',
        match: `\${{ string(input.n) + '-${i}' }}`,
        ...(onTimeout === 'none' ? {} : { timeout: '1h', onTimeout }),
      };
      return;
    }
    const first = s.needs[0];
    if (s.child) {
      steps[stepId(i)] = {
        type: 'workflow',
        ...common,
        workflow: { id: 'random-child' },
        ...(first === undefined ? {} : { input: { from: guardedOutput(stepId(first)), n: '${{ input.n }}' } }),
        parentClosePolicy: s.escalateTo ? 'abandon' : 'cancel',
      };
      return;
    }
    steps[stepId(i)] = {
      worker: `w${i % 3}`,
      ...common,
      ...(first === undefined ? {} : { input: { from: guardedOutput(stepId(first)), n: '${{ input.n }}' } }),
      sideEffect: s.sideEffect,
      ...(s.sideEffect && s.shortGovernanceTimeout ? { governanceTimeout: '1s' } : {}),
      retry: { maxAttempts: s.maxAttempts, nonRetryable: ['E.FATAL'] },
      ...(s.heartbeat ? { heartbeatTimeout: '2s' } : {}),
      ...(s.compensate
        ? {
            compensate: {
              action: 'undo',
              retry: { maxAttempts: s.compensationAttempts, initialDelay: '50ms', maxDelay: '500ms' },
            },
          }
        : {}),
    };
  });
  return compileDefinition({
    id: 'random',
    version: 1,
    onFailure: spec.onFailure,
    defaults: {
      retry: { backoff: 'exponential', initialDelay: '100ms', maxDelay: '2s', jitter: 'full' },
      timeout: '5s',
    },
    steps,
  });
}

export function runInput(spec: WorkflowSpec): Record<string, unknown> {
  const input: Record<string, unknown> = { n: spec.steps.length };
  spec.flags.forEach((f, i) => (input[`f${i}`] = f));
  return input;
}

const KINDS = [
  ...Array<'complete'>(6).fill('complete'),
  ...Array<'fail'>(4).fill('fail'),
  'start',
  'heartbeat',
  'duplicate',
  'duplicate',
  'stale',
  'stale',
  'timer',
  'timer',
  'timer',
  'governance',
  'governance',
  'approve',
  'reject',
  'pause',
  'resume',
  'retry',
  'retry',
  'skip',
  'cancel',
  'compensate',
  'hold',
  'hold',
  'release',
  'deliver',
  'child',
  'child',
  'child',
] as const;
export type ActionKind = (typeof KINDS)[number];
export interface Action {
  readonly kind: ActionKind;
  readonly pick: number;
  readonly flag: boolean;
  readonly dt: number;
}

export const action: fc.Arbitrary<Action> = fc.record({
  kind: fc.constantFrom(...KINDS),
  pick: fc.nat(999),
  flag: fc.boolean(),
  dt: fc.nat(700),
});

export interface Scenario {
  readonly spec: WorkflowSpec;
  readonly actions: readonly Action[];
  /** Whether the finisher also acts for the operator when the run waits for one. */
  readonly operatorFinishes: boolean;
}

export const scenario: fc.Arbitrary<Scenario> = fc.record({
  spec: workflowSpec,
  actions: fc.array(action, { maxLength: 40 }),
  operatorFinishes: fc.boolean(),
});
