/** The commands a random run is made of: what each random action stands for, and the probes of an ended run. */
import type { CompiledDefinition } from '@orchestron/definitions';
import { childRunIdOf, stepAt } from '../index.ts';
import type { ChildOutcomeStatus, Command, CommandMetadata, HoldReason, Phase, RunData } from '../index.ts';
import type { Action } from './random-workflows.ts';
import { assertNever } from './run-checks.ts';

const HOLD_REASONS: readonly HoldReason[] = ['breaker_open', 'concurrency_limit', 'rate_limit'];

export interface Attempt {
  readonly stepId: string;
  readonly attempt: number;
  readonly phase: Phase;
}

/** The driven run, as far as choosing its next command needs it. */
export interface Chooser {
  readonly s: RunData;
  readonly definition: CompiledDefinition;
  readonly reports: readonly Command[];
  /** A due timer's firing moves the clock on to its due time. */
  now: number;
  meta(actor?: string): CommandMetadata;
  /** Attempts out at a worker, or (with `held`) the ones the runtime holds back. */
  outstanding(held?: boolean): Attempt[];
  stepIds(filter?: (id: string) => boolean): string[];
}

export function commandFor(a: Action, c: Chooser): Command | null {
  const pick = <T>(items: readonly T[]): T | undefined =>
    items.length === 0 ? undefined : items[a.pick % items.length];
  const s = c.s;
  const anyStep = pick(c.definition.order) ?? 's0';
  switch (a.kind) {
    case 'complete':
    case 'fail':
    case 'start':
    case 'heartbeat': {
      const target = pick(c.outstanding());
      if (!target) return null;
      return report(c, a.kind, target.stepId, target.attempt, target.phase, a);
    }
    case 'duplicate': {
      const original = pick(c.reports);
      return original ? { ...original, metadata: c.meta() } : null;
    }
    case 'stale': {
      const retried = [
        ...Object.values(s.steps)
          .filter((st) => st.attempt >= 2)
          .map((st) => ({ stepId: st.id, attempt: st.attempt, phase: 'execute' as Phase })),
        ...Object.values(s.compensations)
          .filter((c) => c.attempt >= 2)
          .map((c) => ({ stepId: c.stepId, attempt: c.attempt, phase: 'compensate' as Phase })),
      ];
      const target = pick(retried);
      if (!target) return report(c, a.flag ? 'complete' : 'fail', anyStep, 1 + (a.pick % 3), 'execute', a);
      return report(
        c,
        a.flag ? 'complete' : 'fail',
        target.stepId,
        1 + (a.pick % (target.attempt - 1)),
        target.phase,
        a,
      );
    }
    case 'timer': {
      const timer = pick(Object.values(s.timers).sort((x, y) => x.id.localeCompare(y.id)));
      if (!timer) return null;
      if (a.flag) c.now = Math.max(c.now, timer.dueAt);
      return { type: 'FireTimer', data: { timerId: timer.id }, metadata: c.meta('system:timer') };
    }
    case 'governance': {
      const id = pick(c.stepIds((i) => s.steps[i]?.status === 'waiting_governance'));
      if (!id) return null;
      const outcome = (['allow', 'allow', 'deny', 'require_approval'] as const)[a.pick % 4] ?? 'allow';
      // Mostly about the input asked; sometimes about another (an answer to an older request), which must change nothing.
      const inputDigest =
        a.flag && a.pick % 3 === 0 ? 'an older request' : (stepAt(s, id, 'waiting_governance')?.askedDigest ?? '');
      return {
        type: 'RecordGovernanceDecision',
        data: { stepId: id, outcome, policyId: `policy-${a.pick % 5}`, reason: 'random', inputDigest },
        metadata: c.meta(),
      };
    }
    case 'hold': {
      // Mostly an attempt the runtime could not send; sometimes one that is held already, stale, or started.
      const target = pick(a.flag ? c.outstanding() : c.outstanding(false));
      if (!target) return null;
      const reason = HOLD_REASONS[a.pick % HOLD_REASONS.length] ?? 'breaker_open';
      return {
        type: 'HoldStep',
        data: {
          ...target,
          attempt: a.pick % 11 === 0 ? target.attempt + 1 : target.attempt,
          reason,
          worker: `w${a.pick % 3}`,
        },
        metadata: c.meta('system:flow'),
      };
    }
    case 'release': {
      const target = pick(a.flag ? c.outstanding() : c.outstanding(true));
      if (!target) return null;
      return { type: 'ReleaseStep', data: target, metadata: c.meta('system:flow') };
    }
    case 'approve':
    case 'reject': {
      const waiting = a.kind === 'reject' ? ['waiting_approval', 'waiting_governance'] : ['waiting_approval'];
      const id = a.flag ? anyStep : pick(c.stepIds((i) => waiting.includes(s.steps[i]?.status ?? '')));
      if (!id) return null;
      return {
        type: a.kind === 'approve' ? 'Approve' : 'Reject',
        data: { stepId: id, reason: 'random' },
        metadata: c.meta('ops:random'),
      };
    }
    case 'retry': {
      const retryable = (i: string) =>
        s.steps[i]?.status === 'failed' ||
        s.compensations[i]?.status === 'failed' ||
        (s.steps[i]?.status === 'waiting_governance' && s.steps[i]?.escalated === true);
      const id = a.flag ? anyStep : pick(c.stepIds(retryable));
      if (!id) return null;
      return {
        type: 'RetryStep',
        data: { stepId: id, ...(a.pick % 2 === 0 ? { input: { edited: a.pick } } : {}) },
        metadata: c.meta('ops:random'),
      };
    }
    case 'skip': {
      const id = a.flag
        ? anyStep
        : pick(c.stepIds((i) => s.steps[i]?.status === 'failed' || s.compensations[i]?.status === 'failed'));
      if (!id) return null;
      return {
        type: 'SkipStep',
        data: { stepId: id, output: a.pick % 7 === 0 ? undefined : { skipped: a.pick } },
        metadata: c.meta('ops:random'),
      };
    }
    case 'deliver': {
      const st = pick(
        c.stepIds((i) => s.steps[i]?.status === 'waiting_event').map((i) => stepAt(s, i, 'waiting_event')),
      );
      // Sometimes an event nobody waits for: another key, or a step that does not wait (yet, or any more).
      const key = st && !(a.flag && a.pick % 3 === 0) ? st.key : `other-${a.pick}`;
      return eventFor(c, key, `e-${a.pick}`, { delivered: a.pick });
    }
    case 'child':
      return childOutcomeFor(c, a);
    case 'pause':
      return { type: 'Pause', data: {}, metadata: c.meta('ops:random') };
    case 'resume':
      return { type: 'Resume', data: {}, metadata: c.meta('ops:random') };
    case 'cancel':
      return { type: 'Cancel', data: {}, metadata: c.meta('ops:random') };
    case 'compensate':
      return { type: 'Compensate', data: {}, metadata: c.meta('ops:random') };
    default:
      return assertNever(a.kind);
  }
}

const CHILD_STATUSES: readonly ChildOutcomeStatus[] = [
  'completed',
  'completed',
  'compensated',
  'failed',
  'cancelled',
  'not_started',
];

/**
 * A child run's outcome, as the runtime reports it: for a workflow step waiting for its child, or one whose child
 * compensates; sometimes for another child (an earlier attempt's, a stranger's), which must change nothing.
 */
function childOutcomeFor(c: Chooser, a: Action): Command | null {
  const s = c.s;
  const ids = c.stepIds(
    (i) =>
      s.steps[i]?.status === 'waiting_child' ||
      (s.definition.steps[i]?.type === 'workflow' && s.compensations[i]?.status === 'running'),
  );
  const id = ids.length === 0 ? undefined : ids[a.pick % ids.length];
  if (id === undefined) return null;
  const st = s.steps[id];
  const own = st?.status === 'waiting_child' ? st.childRunId : childRunIdOf(s.runId, id, st?.attempt ?? 0);
  const childRunId = a.flag && a.pick % 4 === 0 ? `stranger-${a.pick}` : own;
  const status = CHILD_STATUSES[a.pick % CHILD_STATUSES.length] ?? 'completed';
  return { type: 'RecordChildOutcome', data: childOutcomeData(id, childRunId, status, a.pick), metadata: c.meta() };
}

/** What the runtime tells a parent of its child `childRunId` (output when it completed, error otherwise). */
export function childOutcomeData(stepId: string, childRunId: string, status: ChildOutcomeStatus, v: number) {
  return status === 'completed'
    ? { stepId, childRunId, status, output: { child: v } }
    : { stepId, childRunId, status, error: { code: 'E.CHILD', message: `child ${status}`, retryable: false } };
}

/** An event of the random workflows' event steps (all wait for `random.event`) with this key. */
export function eventFor(c: Pick<Chooser, 'meta'>, key: string, eventId: string, payload: unknown): Command {
  return {
    type: 'DeliverEvent',
    data: { name: 'random.event', key, eventId, payload },
    metadata: c.meta('system:events'),
  };
}

function report(
  c: Chooser,
  kind: 'complete' | 'fail' | 'start' | 'heartbeat',
  stepId: string,
  attempt: number,
  phase: Phase,
  a: Action,
): Command {
  const data = { stepId, attempt, phase };
  switch (kind) {
    case 'complete':
      return { type: 'RecordStepCompleted', data: { ...data, output: { v: a.pick } }, metadata: c.meta() };
    case 'fail': {
      const code = a.flag ? 'E.TRANSIENT' : a.pick % 2 === 0 ? 'E.FATAL' : 'E.OTHER';
      return {
        type: 'RecordStepFailed',
        data: { ...data, error: { code, message: 'random failure', retryable: a.pick % 3 !== 0 } },
        metadata: c.meta(),
      };
    }
    case 'start':
      return { type: 'RecordStepStarted', data, metadata: c.meta() };
    case 'heartbeat':
      return { type: 'RecordStepHeartbeat', data, metadata: c.meta() };
    default:
      return assertNever(kind);
  }
}

/** Every kind of command, against an ended run: none may produce an event. */
export function probeCommands(
  s: RunData,
  definition: CompiledDefinition,
  input: Record<string, unknown>,
  m: CommandMetadata,
): Command[] {
  const ids = definition.order.slice(0, 4);
  const commands: Command[] = [
    {
      type: 'StartRun',
      data: { runId: 'run-p', definition: definition, input: input, idempotencyKey: 'key-p' },
      metadata: m,
    },
    { type: 'Pause', data: {}, metadata: m },
    { type: 'Resume', data: {}, metadata: m },
    { type: 'Cancel', data: {}, metadata: m },
    { type: 'Compensate', data: {}, metadata: m },
    { type: 'CompensateForParent', data: {}, metadata: m },
    ...Object.keys(s.timers).map((timerId): Command => ({ type: 'FireTimer', data: { timerId }, metadata: m })),
  ];
  for (const id of ids) {
    const attempt = s.steps[id]?.attempt ?? 0;
    for (const phase of ['execute', 'compensate'] as const) {
      for (const n of [attempt, attempt + 1]) {
        commands.push(
          { type: 'RecordStepStarted', data: { stepId: id, attempt: n, phase }, metadata: m },
          { type: 'RecordStepCompleted', data: { stepId: id, attempt: n, phase, output: null }, metadata: m },
          {
            type: 'RecordStepFailed',
            data: { stepId: id, attempt: n, phase, error: { code: 'E', message: 'late', retryable: true } },
            metadata: m,
          },
        );
      }
    }
    commands.push(
      {
        type: 'RecordGovernanceDecision',
        data: {
          stepId: id,
          outcome: 'allow',
          policyId: null,
          reason: 'late',
          inputDigest: stepAt(s, id, 'waiting_governance')?.askedDigest ?? 'none',
        },
        metadata: m,
      },
      { type: 'Approve', data: { stepId: id }, metadata: m },
      { type: 'Reject', data: { stepId: id }, metadata: m },
      { type: 'RetryStep', data: { stepId: id }, metadata: m },
      { type: 'SkipStep', data: { stepId: id, output: null }, metadata: m },
      ...(['completed', 'compensated', 'failed'] as const).map((status): Command => ({
        type: 'RecordChildOutcome',
        data: childOutcomeData(id, childRunIdOf(s.runId, id, s.steps[id]?.attempt ?? 0), status, 0),
        metadata: m,
      })),
    );
  }
  return commands;
}
