/**
 * Given/when/then over events for the workflow decider (STYLE.md, principle 9: domain tests are
 * given/when/then over events, with no mocks).
 *
 *   given(history).when(command).then('StepCompleted', { type: 'StepDispatched', data: { stepId: 'b' } })
 *
 * Expected events are matched in order and in number; `data` is matched as a subset.
 */
import { expect } from '@jest/globals';
import { compileDefinition } from '@orchestron/definitions';
import type { Budget, CompiledDefinition } from '@orchestron/definitions';
import { timerArmedBy } from '../event-builders.ts';
import { childRunIdOf, decide, DomainError, fold, isStarted, stepAt } from '../index.ts';
import type {
  ChildOutcomeStatus,
  Command,
  DecideOptions,
  DomainErrorCode,
  IgnoreReason,
  Unapplied,
  GovernanceDecisionCode,
  HoldReason,
  ParentLink,
  Phase,
  RunData,
  RunFork,
  RunState,
  StepError,
  TimerKind,
  Usage,
  WorkflowEvent,
  WorkflowEventType,
} from '../index.ts';

export const RUN_ID = 'run-1';
/** An arbitrary fixed instant; tests count time from it. */
export const T0 = 1_700_000_000_000;

export type ExpectedEvent =
  WorkflowEventType | { readonly type: WorkflowEventType; readonly data?: Readonly<Record<string, unknown>> };

export interface Decided {
  /** The history followed by what the command produced. */
  readonly events: WorkflowEvent[];
  readonly produced: WorkflowEvent[];
  readonly state: RunData;
}

export interface When {
  /** Exactly these events, in this order. */
  then(...expected: ExpectedEvent[]): Decided;
  /** These events in this order, possibly with others between them. */
  thenIncludes(...expected: ExpectedEvent[]): Decided;
  thenNothing(): Decided;
  /** No events, and the decision calls it a known no-op for this reason (with a message matching `message`). */
  thenIgnores(reason: IgnoreReason, message?: RegExp): void;
  /** No events, and the decision rejects the message with this code (the runtime dead-letters it). */
  thenRejects(code: DomainErrorCode, message?: RegExp): void;
  thenThrows(code: DomainErrorCode): DomainError;
}

export function given(...history: (WorkflowEvent | readonly WorkflowEvent[])[]): {
  when(command: Command, options?: DecideOptions): When;
} {
  const events = history.flat();
  const before = fold(events);
  return {
    when(command, options = {}) {
      let produced: WorkflowEvent[] = [];
      let unapplied: Unapplied | null = null;
      let thrown: unknown;
      try {
        ({ events: produced, unapplied } = decide(withAskedDigest(command, before), before, options));
      } catch (error) {
        thrown = error;
      }
      const decided = (): Decided => {
        if (thrown !== undefined) throw thrown;
        return {
          events: [...events, ...produced],
          produced,
          get state() {
            return started(fold(produced, before));
          },
        };
      };
      return {
        then(...expected) {
          const result = decided();
          expect(result.produced).toMatchObject(expected.map(pattern));
          return result;
        },
        thenIncludes(...expected) {
          const result = decided();
          expect(subsequence(result.produced, expected.map(pattern))).toEqual(expected.map(pattern));
          return result;
        },
        thenNothing() {
          const result = decided();
          expect(result.produced).toEqual([]);
          return result;
        },
        thenIgnores(reason, message) {
          expect(decided().produced).toEqual([]);
          expect(unapplied).toMatchObject({ type: 'Ignore', data: { reason } });
          if (message !== undefined) expect(unapplied?.data.message).toMatch(message);
        },
        thenRejects(code, message) {
          expect(decided().produced).toEqual([]);
          expect(unapplied).toMatchObject({ type: 'Reject', data: { code } });
          if (message !== undefined) expect(unapplied?.data.message).toMatch(message);
        },
        thenThrows(code) {
          if (thrown === undefined)
            throw new Error(
              `expected DomainError ${code}, but the command produced ${produced.map((e) => e.type).join(', ') || 'nothing'}`,
            );
          expect(thrown).toBeInstanceOf(DomainError);
          expect((thrown as DomainError).code).toBe(code);
          return thrown as DomainError;
        },
      };
    },
  };
}

/** The events a sequence of commands produces, each decided on the state the ones before it left. */
export function play(history: readonly WorkflowEvent[], ...commands: Command[]): WorkflowEvent[] {
  const events = [...history];
  let state = fold(events);
  for (const command of commands) {
    const produced = decide(withAskedDigest(command, state), state).events;
    events.push(...produced);
    state = fold(produced, state);
  }
  return events;
}

export function started(state: RunState): RunData {
  if (!isStarted(state)) throw new Error('the run has not started');
  return state;
}

export function stateOf(events: readonly WorkflowEvent[]): RunData {
  return started(fold(events));
}

export function ofType<T extends WorkflowEventType>(
  events: readonly WorkflowEvent[],
  type: T,
): Extract<WorkflowEvent, { type: T }>[] {
  return events.filter((e): e is Extract<WorkflowEvent, { type: T }> => e.type === type);
}

/**
 * The id of the last timer of this kind armed for a step (ids that carry a due time are then easy to fire), by a
 * TimerScheduled or by the event that set its due time.
 */
export function timerIdOf(events: readonly WorkflowEvent[], kind: TimerKind, stepId: string): string {
  const timer = events
    .map(timerArmedBy)
    .filter((t) => t !== null && t.kind === kind && t.stepId === stepId)
    .at(-1);
  if (!timer) throw new Error(`no ${kind} timer was scheduled for ${stepId}`);
  return timer.id;
}

/** `stepId@attempt` for each dispatch of a phase, in order. */
export function dispatches(events: readonly WorkflowEvent[], phase: Phase = 'execute'): string[] {
  return ofType(events, 'StepDispatched')
    .filter((e) => e.data.phase === phase)
    .map((e) => `${e.data.stepId}@${e.data.attempt}`);
}

/**
 * A compiled definition with predictable defaults: three attempts, exponential backoff from 1s without
 * jitter, a 30s attempt timeout and `onFailure: fail`, unless `extra` says otherwise.
 */
export function workflow(steps: Record<string, unknown>, extra: Record<string, unknown> = {}): CompiledDefinition {
  return compileDefinition({
    id: 'wf',
    version: 1,
    onFailure: 'fail',
    defaults: {
      retry: { maxAttempts: 3, backoff: 'exponential', initialDelay: '1s', maxDelay: '1m', jitter: 'none' },
      timeout: '30s',
    },
    steps,
    ...extra,
  });
}

type Opts = { readonly now?: number; readonly actor?: string; readonly reason?: string };
type ReportOpts = { readonly attempt?: number; readonly phase?: Phase; readonly now?: number; readonly usage?: Usage };

const meta = (o: Opts = {}) => ({ now: o.now ?? T0, ...(o.actor === undefined ? {} : { actor: o.actor }) });
const why = (o: Opts) => (o.reason === undefined ? {} : { reason: o.reason });
const report = (stepId: string, o: ReportOpts) => ({ stepId, attempt: o.attempt ?? 1, phase: o.phase ?? 'execute' });
const used = (o: ReportOpts) => (o.usage === undefined ? {} : { usage: o.usage });

type StartOpts = Opts & {
  readonly runId?: string;
  readonly idempotencyKey?: string;
  readonly tenant?: string;
  readonly governEveryStep?: boolean;
  readonly forkedFrom?: RunFork;
  readonly budget?: Budget;
  readonly parent?: ParentLink;
};

export function startRun(definition: CompiledDefinition, input: unknown = {}, o: StartOpts = {}): Command {
  const key = o.idempotencyKey === undefined ? {} : { idempotencyKey: o.idempotencyKey };
  const scope = {
    ...(o.tenant !== undefined ? { tenant: o.tenant } : {}),
    ...(o.governEveryStep !== undefined ? { governEveryStep: o.governEveryStep } : {}),
    ...(o.forkedFrom !== undefined ? { forkedFrom: o.forkedFrom } : {}),
    ...(o.budget !== undefined ? { budget: o.budget } : {}),
    ...(o.parent !== undefined ? { parent: o.parent } : {}),
  };
  return {
    type: 'StartRun',
    data: { runId: o.runId ?? RUN_ID, definition, input, ...key, ...scope },
    metadata: meta(o),
  };
}

export const stepStarted = (stepId: string, o: ReportOpts = {}): Command => ({
  type: 'RecordStepStarted',
  data: report(stepId, o),
  metadata: meta(o),
});
export const heartbeat = (stepId: string, o: ReportOpts = {}): Command => ({
  type: 'RecordStepHeartbeat',
  data: report(stepId, o),
  metadata: meta(o),
});

export function stepCompleted(stepId: string, o: ReportOpts & { readonly output?: unknown } = {}): Command {
  return {
    type: 'RecordStepCompleted',
    data: { ...report(stepId, o), output: o.output ?? { ok: stepId }, ...used(o) },
    metadata: meta(o),
  };
}

export function stepFailed(stepId: string, o: ReportOpts & { readonly error?: Partial<StepError> } = {}): Command {
  const error: StepError = { code: 'WORKER.ERROR', message: `${stepId} broke`, retryable: true, ...o.error };
  return { type: 'RecordStepFailed', data: { ...report(stepId, o), error, ...used(o) }, metadata: meta(o) };
}

/** Stands for the digest of the input the step's governance check was about: `when` puts the real one in. */
export const ASKED_DIGEST = '(the input governance was asked about)';

/** A decision about the input the step's check asked about, unless `inputDigest` names another. */
export function governance(
  stepId: string,
  outcome: 'allow' | 'deny' | 'require_approval',
  o: Opts & {
    readonly policyId?: string | null;
    readonly code?: GovernanceDecisionCode;
    readonly inputDigest?: string;
  } = {},
): Command {
  const code = o.code === undefined ? {} : { code: o.code };
  const data = {
    stepId,
    outcome,
    policyId: o.policyId === undefined ? 'baseline' : o.policyId,
    reason: o.reason ?? `${outcome} by test`,
    inputDigest: o.inputDigest ?? ASKED_DIGEST,
    ...code,
  };
  return { type: 'RecordGovernanceDecision', data, metadata: meta(o) };
}

/** Fills in ASKED_DIGEST from the state, as the runtime's decision carries the digest of what it asked about. */
export function withAskedDigest(command: Command, state: RunState): Command {
  if (command.type !== 'RecordGovernanceDecision' || command.data.inputDigest !== ASKED_DIGEST) return command;
  const asked = isStarted(state)
    ? (stepAt(state, command.data.stepId, 'waiting_governance')?.askedDigest ?? null)
    : null;
  return { ...command, data: { ...command.data, inputDigest: asked ?? 'nothing was asked' } };
}

/** Governance could not evaluate the request (what the policy engine decides for a lone surrogate or a too-deep input). */
export function governanceUnevaluable(stepId: string, o: Opts = {}): Command {
  return governance(stepId, 'deny', {
    ...o,
    policyId: null,
    code: 'GOVERNANCE.UNEVALUABLE',
    reason: o.reason ?? 'Cedar could not evaluate the request: context.input.name: the string holds a lone surrogate',
  });
}

/** The runtime could not send the attempt (flow control); `worker` defaults to the definition's. */
export function holdStep(
  stepId: string,
  o: ReportOpts & { readonly reason?: HoldReason; readonly worker?: string } = {},
): Command {
  return {
    type: 'HoldStep',
    data: { ...report(stepId, o), reason: o.reason ?? 'breaker_open', worker: o.worker ?? 'w' },
    metadata: meta(o),
  };
}
export const releaseStep = (stepId: string, o: ReportOpts = {}): Command => ({
  type: 'ReleaseStep',
  data: report(stepId, o),
  metadata: meta(o),
});

export const fireTimer = (timerId: string, o: Opts = {}): Command => ({
  type: 'FireTimer',
  data: { timerId },
  metadata: meta(o),
});
export const approve = (stepId: string, o: Opts = {}): Command => ({
  type: 'Approve',
  data: { stepId, ...why(o) },
  metadata: meta(o),
});
export const reject = (stepId: string, o: Opts = {}): Command => ({
  type: 'Reject',
  data: { stepId, ...why(o) },
  metadata: meta(o),
});
export const pause = (o: Opts = {}): Command => ({ type: 'Pause', data: why(o), metadata: meta(o) });
export const resume = (o: Opts = {}): Command => ({ type: 'Resume', data: why(o), metadata: meta(o) });
export const cancel = (o: Opts = {}): Command => ({ type: 'Cancel', data: why(o), metadata: meta(o) });
export const compensate = (o: Opts = {}): Command => ({ type: 'Compensate', data: why(o), metadata: meta(o) });

export function retryStep(stepId: string, o: Opts & { readonly input?: unknown } = {}): Command {
  return {
    type: 'RetryStep',
    data: { stepId, ...(o.input === undefined ? {} : { input: o.input }), ...why(o) },
    metadata: meta(o),
  };
}

export function redrive(stepId: string, o: Opts & { readonly input?: unknown } = {}): Command {
  return {
    type: 'Redrive',
    data: { stepId, ...(o.input === undefined ? {} : { input: o.input }), ...why(o) },
    metadata: meta(o),
  };
}

export const raiseBudget = (budget: Budget, o: Opts = {}): Command => ({
  type: 'RaiseBudget',
  data: { budget, ...why(o) },
  metadata: meta(o),
});

/** An event from outside, as the runtime hands it to a run it correlated it with. */
export function deliverEvent(
  name: string,
  key: string,
  o: Opts & { readonly eventId?: string; readonly payload?: unknown } = {},
): Command {
  const data = { name, key, eventId: o.eventId ?? `${name}/${key}`, payload: o.payload ?? null };
  return { type: 'DeliverEvent', data, metadata: meta(o) };
}

/** A child run's outcome, as the runtime tells its parent (the child's id derived as the decider derives it). */
export function childOutcome(
  stepId: string,
  status: ChildOutcomeStatus,
  o: Opts & {
    readonly attempt?: number;
    readonly childRunId?: string;
    readonly output?: unknown;
    readonly error?: StepError;
  } = {},
): Command {
  const childRunId = o.childRunId ?? childRunIdOf(RUN_ID, stepId, o.attempt ?? 1);
  const data = {
    stepId,
    childRunId,
    status,
    ...(o.output !== undefined ? { output: o.output } : {}),
    ...(o.error !== undefined ? { error: o.error } : {}),
  };
  return { type: 'RecordChildOutcome', data, metadata: meta(o) };
}

export const compensateForParent = (o: Opts = {}): Command => ({
  type: 'CompensateForParent',
  data: why(o),
  metadata: meta(o),
});

/** `output` is required by the command; pass `undefined` to test that it is. */
export function skipStep(stepId: string, output: unknown, o: Opts = {}): Command {
  return { type: 'SkipStep', data: { stepId, output, ...why(o) }, metadata: meta(o) };
}

function pattern(expected: ExpectedEvent): { type: WorkflowEventType; data?: Readonly<Record<string, unknown>> } {
  return typeof expected === 'string' ? { type: expected } : expected;
}

/** The longest prefix of `wanted` found in order in `events`, as the patterns that matched (for a readable diff). */
function subsequence(
  events: readonly WorkflowEvent[],
  wanted: readonly ReturnType<typeof pattern>[],
): ReturnType<typeof pattern>[] {
  const found: ReturnType<typeof pattern>[] = [];
  let i = 0;
  for (const want of wanted) {
    while (i < events.length && !matches(events[i], want)) i++;
    if (i === events.length) break;
    found.push(want);
    i++;
  }
  return found;
}

function matches(event: WorkflowEvent | undefined, want: ReturnType<typeof pattern>): boolean {
  if (event?.type !== want.type) return false;
  try {
    expect(event).toMatchObject(want);
    return true;
  } catch {
    return false;
  }
}
