/** An approval's second level (`escalateTo`): its first timeout assigns the gate to more people, the second asks an operator. */
import { describe, expect, it } from '@jest/globals';
import { gateAssignees } from './approval-escalation.ts';
import {
  approve,
  cancel,
  fireTimer,
  given,
  pause,
  play,
  reject,
  retryStep,
  skipStep,
  startRun,
  stateOf,
  stepCompleted,
  T0,
  workflow,
} from './testing/decider-spec.ts';

const HOUR = 3_600_000;
const at = (ms: number) => ({ now: T0 + ms });
const gated = (gate: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) =>
  workflow(
    {
      a: { worker: 'w' },
      gate: {
        type: 'approval',
        needs: ['a'],
        assignees: ['role:finance'],
        timeout: '1h',
        escalateTo: ['role:cfo', 'user:ann'],
        escalateAfter: '2h',
        ...gate,
      },
      z: { worker: 'w', needs: ['gate'] },
    },
    extra,
  );
const waiting = (gate: Record<string, unknown> = {}) => play([], startRun(gated(gate)), stepCompleted('a', at(10)));
const firstDue = 10 + HOUR;
const escalatedGate = (gate: Record<string, unknown> = {}) =>
  play(waiting(gate), fireTimer('gate:approval:0', at(firstDue)));
const secondDue = firstDue + 2 * HOUR;

describe('an approval that escalates before it asks an operator', () => {
  it('assigns the gate to escalateTo when its timeout passes, with a new deadline, and the run keeps running', () => {
    const escalated = given(waiting())
      .when(fireTimer('gate:approval:0', at(firstDue)))
      .then(
        { type: 'TimerFired', data: { timerId: 'gate:approval:0' } },
        {
          type: 'ApprovalEscalated',
          data: {
            stepId: 'gate',
            to: ['role:cfo', 'user:ann'],
            message: 'approval "gate" timed out and is escalated to role:cfo, user:ann',
            at: T0 + firstDue,
          },
        },
        {
          type: 'TimerScheduled',
          data: {
            timer: { id: 'gate:approval:0:escalated', kind: 'approval_timeout', stepId: 'gate', dueAt: T0 + secondDue },
          },
        },
      );
    expect(escalated.state).toMatchObject({
      status: 'running',
      attention: null,
      steps: { gate: { status: 'waiting_approval', escalated: false, escalatedTo: ['role:cfo', 'user:ann'] } },
    });
    expect(gateAssignees(escalated.state, 'gate')).toEqual(['role:finance', 'role:cfo', 'user:ann']);
  });

  it('escalates once: the second timeout asks an operator with APPROVAL.TIMED_OUT, as a gate without escalateTo does', () => {
    const timedOut = given(escalatedGate())
      .when(fireTimer('gate:approval:0:escalated', at(secondDue)))
      .then('TimerFired', {
        type: 'RunNeedsOperator',
        data: { code: 'APPROVAL.TIMED_OUT', message: 'approval "gate" timed out', stepId: 'gate' },
      });
    expect(timedOut.state).toMatchObject({ status: 'needs_operator', steps: { gate: { escalated: true } } });
    expect(timedOut.state.timers).toEqual({});
    // and the operator's approval resumes the run
    given(timedOut.events)
      .when(approve('gate', at(secondDue + 1)))
      .thenIncludes('StepApproved', 'StepCompleted', 'RunResumed', { type: 'StepDispatched', data: { stepId: 'z' } });
  });

  it('fails the gate on the second timeout when onTimeout is fail', () => {
    given(escalatedGate({ onTimeout: 'fail' }))
      .when(fireTimer('gate:approval:0:escalated', at(secondDue)))
      .then(
        'TimerFired',
        { type: 'StepFailed', data: { stepId: 'gate', error: { code: 'APPROVAL.TIMED_OUT' } } },
        'RunFailed',
      );
  });

  it('gives the second level the step timeout when escalateAfter is not set', () => {
    given(waiting({ escalateAfter: undefined }))
      .when(fireTimer('gate:approval:0', at(firstDue)))
      .thenIncludes('ApprovalEscalated', {
        type: 'TimerScheduled',
        data: { timer: { id: 'gate:approval:0:escalated', dueAt: T0 + firstDue + HOUR } },
      });
  });

  it('lets the second level approve the escalated gate, and the run goes on with no timer of the gate left', () => {
    const approved = given(escalatedGate())
      .when(approve('gate', { ...at(firstDue + 5), actor: 'operator:ann' }))
      .then(
        { type: 'StepApproved', data: { stepId: 'gate', by: 'operator:ann' } },
        { type: 'StepCompleted', data: { stepId: 'gate', output: { approved: true, by: 'operator:ann' } } },
        { type: 'StepDispatched', data: { stepId: 'z' } },
      );
    expect(Object.values(approved.state.timers).map((t) => `${t.kind} ${t.stepId}`)).toEqual(['attempt_timeout z']);
    // The escalation's deadline is gone: firing it late changes nothing
    given(approved.events)
      .when(fireTimer('gate:approval:0:escalated', at(secondDue)))
      .thenIgnores('timer_gone');
  });

  it('never escalates a gate approved before its timeout', () => {
    const approved = given(waiting())
      .when(approve('gate', at(firstDue - 1)))
      .thenIncludes('StepApproved', 'StepCompleted');
    expect(approved.produced.map((e) => e.type)).not.toContain('ApprovalEscalated');
    expect(Object.keys(approved.state.timers).filter((id) => id.startsWith('gate:'))).toEqual([]);
    given(approved.events)
      .when(fireTimer('gate:approval:0', at(firstDue)))
      .thenIgnores('timer_gone');
  });

  it('leaves no timer of the gate behind once it is rejected, skipped or the run cancelled', () => {
    const gateTimers = (events: Parameters<typeof stateOf>[0]) =>
      Object.keys(stateOf(events).timers).filter((id) => id.startsWith('gate:'));
    expect(gateTimers(escalatedGate())).toEqual(['gate:approval:0:escalated']);
    const decided = {
      rejected: play(escalatedGate(), reject('gate', at(firstDue + 1))),
      skipped: play(escalatedGate(), skipStep('gate', { approved: true }, at(firstDue + 1))),
      cancelled: play(escalatedGate(), cancel(at(firstDue + 1))),
      rejectedBefore: play(waiting(), reject('gate', at(firstDue - 1))),
      cancelledBefore: play(waiting(), cancel(at(firstDue - 1))),
    };
    for (const [how, events] of Object.entries(decided))
      expect({ how, timers: gateTimers(events) }).toEqual({ how, timers: [] });
  });

  it('escalates a gate of a paused run too, which stays paused', () => {
    const paused = play(waiting(), pause(at(20)));
    const escalated = given(paused)
      .when(fireTimer('gate:approval:0', at(firstDue)))
      .then('TimerFired', 'ApprovalEscalated', 'TimerScheduled');
    expect(escalated.state).toMatchObject({
      status: 'paused',
      steps: { gate: { escalatedTo: ['role:cfo', 'user:ann'] } },
    });
  });

  it('asks again from the first level when an operator retries a rejected gate, and escalates it again', () => {
    const redo = gated({}, { onFailure: 'escalate' });
    const rejected = play(
      [],
      startRun(redo),
      stepCompleted('a', at(10)),
      fireTimer('gate:approval:0', at(firstDue)),
      reject('gate', at(firstDue + 1)),
    );
    const asked = given(rejected)
      .when(retryStep('gate', at(firstDue + 2)))
      .thenIncludes('OperatorRetried', 'ApprovalRequested', {
        type: 'TimerScheduled',
        data: { timer: { id: 'gate:approval:0', dueAt: T0 + firstDue + 2 + HOUR } },
      });
    expect(asked.state.steps.gate).toMatchObject({ status: 'waiting_approval', escalatedTo: null });
    expect(gateAssignees(asked.state, 'gate')).toEqual(['role:finance']);
    given(asked.events)
      .when(fireTimer('gate:approval:0', at(firstDue + 2 + HOUR)))
      .then('TimerFired', 'ApprovalEscalated', 'TimerScheduled');
  });

  it('a gate without escalateTo still asks an operator at its first timeout', () => {
    given(waiting({ escalateTo: undefined, escalateAfter: undefined }))
      .when(fireTimer('gate:approval:0', at(firstDue)))
      .then('TimerFired', { type: 'RunNeedsOperator', data: { code: 'APPROVAL.TIMED_OUT', stepId: 'gate' } });
  });
});

describe('who may decide a gate', () => {
  it('is the definition assignees until the gate escalates, then escalateTo as well', () => {
    expect(gateAssignees(stateOf(waiting()), 'gate')).toEqual(['role:finance']);
    expect(gateAssignees(stateOf(escalatedGate()), 'gate')).toEqual(['role:finance', 'role:cfo', 'user:ann']);
  });

  it('is any operator for a gate without assignees, escalated or not, and for a task step', () => {
    const open = escalatedGate({ assignees: undefined });
    expect(gateAssignees(stateOf(open), 'gate')).toEqual([]);
    expect(gateAssignees(stateOf(open), 'a')).toEqual([]);
    expect(gateAssignees(stateOf(open), 'nope')).toEqual([]);
  });
});
