import { quoteForMessage, runInputIssues } from '@orchestron/definitions';
import { closedChildren, compensateForParent, recordChildOutcome } from './child-runs.ts';
import { effectsOf, parentEffects } from './effects.ts';
import type { Decision } from './effects.ts';
import { DomainError } from './errors.ts';
import { evolve, assertNever } from './evolve.ts';
import { deliverEvent } from './event-waits.ts';
import { checkFork } from './fork.ts';
import { hold, release } from './holds.ts';
import type { Command, WorkflowEvent } from './messages.ts';
import { cancel, compensate, decideGate, pause, resume, retryStep, skipStep } from './operator-commands.ts';
import { react } from './react.ts';
import type { StandingLookup } from './standing.ts';
import { failLockWait } from './lock-waits.ts';
import { lockEffects } from './step-locks.ts';
import { redrive } from './redrive.ts';
import { raiseBudget } from './usage.ts';
import { DEFAULT_TENANT, isStarted } from './state.ts';
import type { RunState } from './state.ts';
import { ignore, isUnapplied, RUN_UNKNOWN } from './unapplied.ts';
import type { Unapplied } from './unapplied.ts';
import {
  fireTimer,
  recordCompleted,
  recordFailed,
  recordGovernanceDecision,
  recordStartedOrHeartbeat,
} from './worker-reports.ts';

const MAX_REACTIONS = 10_000;

export interface DecideOptions {
  /** The standing governance ruling on a step, if the caller holds one (ADR 41); none when absent. */
  readonly standing?: StandingLookup;
}
const ENDINGS: ReadonlySet<string> = new Set(['RunCompleted', 'RunFailed', 'RunCompensated', 'RunCancelled']);

/**
 * The workflow decider: the events a command causes, including everything the run then does on its own, and the
 * effects those ask of the world (see effects.ts). Pure: same state and command, same decision. A command that
 * decides nothing says why (`unapplied`, see unapplied.ts): worker reports, rulings and timers that no longer apply
 * are ignored, reports about a run, step or attempt that does not exist are rejected. Operator commands that do
 * not apply throw a DomainError with a stable code. `options.standing` is read-only knowledge the decider may use,
 * as it uses the command's time: the standing governance rulings the caller holds (ADR 41).
 */
export function decide(command: Command, state: RunState, options: DecideOptions = {}): Decision {
  const handled = handle(command, state);
  if (isUnapplied(handled)) return { events: [], effects: [], unapplied: handled, state };
  const settled = settle(handled, command, state, options.standing);
  const { events } = settled;
  // Closed children recorded ahead of the run's ending were folded after it: fold the events as recorded then.
  const after = settled.inOrder ? settled.state : events.reduce(evolve, state);
  return {
    events,
    effects: [...events.flatMap(effectsOf), ...lockEffects(state, after), ...parentEffects(after, events)],
    unapplied: events.length === 0 ? ignore('nothing_new', `${command.type} changed nothing`) : null,
    state: after,
  };
}

/** The primary events, then everything the run does on its own after them, until it settles. */
/**
 * The events, and the state they were folded into as they were decided; `inOrder` says that fold followed the
 * recorded order (closed children are recorded ahead of an ending, but folded after it).
 */
interface Settled {
  readonly events: WorkflowEvent[];
  readonly state: RunState;
  readonly inOrder: boolean;
}

function settle(
  primary: WorkflowEvent[],
  command: Command,
  state: RunState,
  standing: StandingLookup | undefined,
): Settled {
  if (primary.length === 0) return { events: primary, state, inOrder: true };
  const now = command.metadata.now;
  const events = [...primary];
  let folded = withClosedChildren(events, state, primary, now);
  let inOrder = folded.inOrder;
  for (let i = 0; isStarted(folded.state); i++) {
    if (i > MAX_REACTIONS) throw new Error('decider did not settle: a reaction loop is a bug in workflow-core');
    const next = react(folded.state, now, standing);
    if (next.length === 0) break;
    events.push(...next);
    folded = withClosedChildren(events, folded.state, next, now);
    inOrder &&= folded.inOrder;
  }
  return { events, state: folded.state, inOrder };
}

/** Folds a batch in; children whose steps it cancelled are closed by their policy (recorded in the same batch). */
function withClosedChildren(
  events: WorkflowEvent[],
  before: RunState,
  batch: WorkflowEvent[],
  now: number,
): { state: RunState; inOrder: boolean } {
  const after = batch.reduce(evolve, before);
  const closed = closedChildren(before, after, now);
  if (closed.length === 0) return { state: after, inOrder: true };
  // Recorded before the run's ending, if the batch ends it: nothing happens after the end.
  const ending = events.findIndex((e, i) => i >= events.length - batch.length && ENDINGS.has(e.type));
  events.splice(ending < 0 ? events.length : ending, 0, ...closed);
  return { state: closed.reduce(evolve, after), inOrder: ending < 0 };
}

function handle(command: Command, state: RunState): WorkflowEvent[] | Unapplied {
  const now = command.metadata.now;
  if (command.type === 'StartRun') return start(command, state);
  if (!isStarted(state)) {
    if (isReport(command)) return RUN_UNKNOWN;
    throw new DomainError('RUN.NOT_FOUND', 'the run does not exist');
  }
  const s = state;
  const by = command.metadata.actor ?? 'operator';
  switch (command.type) {
    case 'RecordStepStarted':
    case 'RecordStepHeartbeat':
      return recordStartedOrHeartbeat(s, command, now);
    case 'RecordStepCompleted':
      return recordCompleted(s, command, now);
    case 'RecordStepFailed':
      return recordFailed(s, command, now);
    case 'RecordGovernanceDecision':
      return recordGovernanceDecision(s, command, now);
    case 'FireTimer':
      return fireTimer(s, command.data.timerId, now);
    case 'DeliverEvent':
      return deliverEvent(s, command.data, now);
    case 'RecordChildOutcome':
      return recordChildOutcome(s, command.data, now);
    case 'CompensateForParent':
      return compensateForParent(s, by, command.data.reason ?? null, now);
    case 'HoldStep':
      return orMoot(hold(s, command.data, now), command);
    case 'ReleaseStep':
      return orMoot(release(s, command.data, now), command);
    case 'FailLockWait':
      return failLockWait(s, command.data, now);
    case 'Approve':
    case 'Reject':
      return decideGate(s, command, by, now);
    case 'Pause':
      return pause(s, command, by, now);
    case 'Resume':
      return resume(s, command, by, now);
    case 'RetryStep':
      return retryStep(s, command.data.stepId, command.data.input, by, command.data.reason ?? null, now);
    case 'SkipStep':
      return skipStep(s, command.data.stepId, command.data.output, by, command.data.reason ?? null, now);
    case 'Compensate':
      return compensate(s, command, by, now);
    case 'Cancel':
      return cancel(s, command, by, now);
    case 'Redrive': {
      const { stepId, input, reason } = command.data;
      return redrive(s, { stepId, input, by, reason: reason ?? null }, now);
    }
    case 'RaiseBudget':
      return raiseBudget(s, command.data.budget, by, command.data.reason ?? null, now);
    default:
      return assertNever(command);
  }
}

function start(command: Extract<Command, { type: 'StartRun' }>, state: RunState): WorkflowEvent[] | Unapplied {
  const { runId, definition, input, idempotencyKey, tenant, governEveryStep, forkedFrom, budget, parent } =
    command.data;
  if (isStarted(state)) {
    if (idempotencyKey !== undefined && state.idempotencyKey === idempotencyKey)
      return ignore('duplicate_start', `run ${quoteForMessage(runId)} was already started with this idempotency key`);
    throw new DomainError('RUN.ALREADY_EXISTS', `run ${runId} already exists`, { runId });
  }
  const issues = runInputIssues(definition, input);
  if (issues.length > 0)
    throw new DomainError(
      'RUN.INPUT_INVALID',
      `input does not match the schema of ${definition.id} v${definition.version}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
      { issues },
    );
  if (forkedFrom !== undefined) checkFork(definition, forkedFrom);
  return [
    {
      type: 'RunStarted',
      data: {
        runId,
        definition,
        input: input ?? null,
        idempotencyKey: idempotencyKey ?? null,
        startedBy: command.metadata.actor ?? 'anonymous',
        at: command.metadata.now,
        ...(tenant !== undefined && tenant !== DEFAULT_TENANT ? { tenant } : {}),
        ...(governEveryStep === true ? { governEveryStep } : {}),
        ...(forkedFrom !== undefined ? { forkedFrom } : {}),
        ...(budget !== undefined ? { budget } : {}),
        ...(parent !== undefined ? { parent } : {}),
      },
    },
  ];
}

/** A hold or release that does not apply: the attempt is not out, is held already, or is not held. */
function orMoot(
  events: WorkflowEvent[],
  command: Extract<Command, { type: 'HoldStep' | 'ReleaseStep' }>,
): WorkflowEvent[] | Unapplied {
  const { stepId, attempt, phase } = command.data;
  return events.length > 0
    ? events
    : ignore(
        'hold_moot',
        `${command.type} of ${phase} attempt ${attempt} of ${quoteForMessage(stepId)} does not apply`,
      );
}

function isReport(command: Command): boolean {
  return (
    command.type.startsWith('Record') ||
    command.type === 'FireTimer' ||
    command.type === 'DeliverEvent' ||
    command.type === 'HoldStep' ||
    command.type === 'ReleaseStep' ||
    command.type === 'FailLockWait'
  );
}
