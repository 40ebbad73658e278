import { runInputIssues } from '@orchestron/definitions';
import { effectsOf } from './effects.ts';
import type { Decision } from './effects.ts';
import { DomainError } from './errors.ts';
import { evolve, assertNever } from './evolve.ts';
import { hold, release } from './holds.ts';
import type { Command, WorkflowEvent } from './messages.ts';
import { cancel, compensate, decideGate, pause, resume, retryStep, skipStep } from './operator-commands.ts';
import { react } from './react.ts';
import { DEFAULT_TENANT, isStarted } from './state.ts';
import type { RunState } from './state.ts';
import {
  fireTimer,
  recordCompleted,
  recordFailed,
  recordGovernanceDecision,
  recordStartedOrHeartbeat,
} from './worker-reports.ts';

const MAX_REACTIONS = 10_000;

/**
 * The workflow decider: the events a command causes, including everything the run then does on its own, and the
 * effects those ask of the world (see effects.ts). Pure: same state and command, same decision. Worker reports that
 * do not apply (duplicates, stale attempts, finished runs) decide nothing; operator commands that do not apply
 * throw a DomainError with a stable code.
 */
export function decide(command: Command, state: RunState): Decision {
  const events = decideEvents(command, state);
  return { events, effects: events.flatMap(effectsOf) };
}

function decideEvents(command: Command, state: RunState): WorkflowEvent[] {
  const primary = handle(command, state);
  if (primary.length === 0) return primary;
  const events = [...primary];
  let s = primary.reduce(evolve, state);
  for (let i = 0; isStarted(s); i++) {
    if (i > MAX_REACTIONS) throw new Error('decider did not settle: a reaction loop is a bug in workflow-core');
    const next = react(s, command.metadata.now);
    if (next.length === 0) break;
    events.push(...next);
    s = next.reduce(evolve, s);
  }
  return events;
}

function handle(command: Command, state: RunState): WorkflowEvent[] {
  const now = command.metadata.now;
  if (command.type === 'StartRun') return start(command, state);
  if (!isStarted(state)) {
    if (isReport(command)) return [];
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
    case 'HoldStep':
      return hold(s, command.data, now);
    case 'ReleaseStep':
      return release(s, command.data, now);
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
    default:
      return assertNever(command);
  }
}

function start(command: Extract<Command, { type: 'StartRun' }>, state: RunState): WorkflowEvent[] {
  const { runId, definition, input, idempotencyKey, tenant, governEveryStep } = command.data;
  if (isStarted(state)) {
    if (idempotencyKey !== undefined && state.idempotencyKey === idempotencyKey) return [];
    throw new DomainError('RUN.ALREADY_EXISTS', `run ${runId} already exists`, { runId });
  }
  const issues = runInputIssues(definition, input);
  if (issues.length > 0)
    throw new DomainError(
      'RUN.INPUT_INVALID',
      `input does not match the schema of ${definition.id} v${definition.version}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
      { issues },
    );
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
      },
    },
  ];
}

function isReport(command: Command): boolean {
  return (
    command.type.startsWith('Record') ||
    command.type === 'FireTimer' ||
    command.type === 'HoldStep' ||
    command.type === 'ReleaseStep'
  );
}
