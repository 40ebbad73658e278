/** Operator takeover (guarantee 7): retries, skips, pause, resume, cancel, errors with stable codes, and replay. */
import { describe, expect, it } from '@jest/globals';
import { decide, evolve, fold, initialState } from './index.ts';
import type { RunState, WorkflowEvent } from './index.ts';
import {
  approve,
  cancel,
  dispatches,
  fireTimer,
  given,
  governance,
  heartbeat,
  pause,
  play,
  reject,
  resume,
  retryStep,
  RUN_ID,
  skipStep,
  startRun,
  stateOf,
  stepCompleted,
  stepFailed,
  stepStarted,
  T0,
  withAskedDigest,
  workflow,
} from './testing/decider-spec.ts';

const at = (ms: number) => ({ now: T0 + ms });

describe('operator takeover', () => {
  const def = workflow(
    {
      a: { worker: 'w', retry: { maxAttempts: 1 } },
      b: { worker: 'w', needs: ['a'], input: { got: '${{ steps.a.output.v }}' } },
    },
    { onFailure: 'escalate' },
  );
  const escalated = play([], startRun(def, { email: 'ada@exmaple.com' }), stepFailed('a', at(10)));

  it('onFailure: escalate parks the run for an operator', () => {
    given(play([], startRun(def)))
      .when(stepFailed('a', at(10)))
      .then(
        'StepAttemptFailed',
        { type: 'StepFailed', data: { stepId: 'a' } },
        { type: 'RunNeedsOperator', data: { code: 'WORKER.ERROR', stepId: 'a', at: T0 + 10 } },
      );
    expect(stateOf(escalated)).toMatchObject({
      status: 'needs_operator',
      attention: { code: 'WORKER.ERROR', stepId: 'a' },
    });
  });

  it('an operator retry with edited input resumes the run and dispatches the new input, with a fresh budget', () => {
    const retried = given(escalated)
      .when(retryStep('a', { input: { email: 'ada@example.com' }, actor: 'ops:ada', reason: 'typo', ...at(100) }))
      .then(
        {
          type: 'OperatorRetried',
          data: {
            stepId: 'a',
            phase: 'execute',
            input: { email: 'ada@example.com' },
            by: 'ops:ada',
            reason: 'typo',
            at: T0 + 100,
            // The record keeps the value the edit replaced.
            replacedInput: { email: 'ada@exmaple.com' },
          },
        },
        { type: 'RunResumed', data: { by: 'ops:ada', reason: 'typo' } },
        {
          type: 'StepDispatched',
          data: { stepId: 'a', attempt: 2, input: { email: 'ada@example.com' }, idempotencyKey: `${RUN_ID}/a/2` },
        },
      );
    const next = given(retried.events)
      .when(stepCompleted('a', { attempt: 2, output: { v: 7 } }))
      .then('StepCompleted', { type: 'StepDispatched', data: { stepId: 'b', input: { got: 7 } } });
    given(next.events).when(stepCompleted('b')).then('StepCompleted', 'RunCompleted');
  });

  it('an operator retry without input reuses the last input', () => {
    given(escalated)
      .when(retryStep('a'))
      .thenIncludes({ type: 'StepDispatched', data: { attempt: 2, input: { email: 'ada@exmaple.com' } } });
  });

  it('an operator skip supplies the output that downstream input mapping sees', () => {
    given(escalated)
      .when(skipStep('a', { v: 42 }, { actor: 'ops:ada', reason: 'done by hand' }))
      .then(
        {
          type: 'StepSkipped',
          data: {
            stepId: 'a',
            kind: 'operator',
            output: { v: 42 },
            by: 'ops:ada',
            reason: 'done by hand',
            replaced: { status: 'failed', error: { code: 'WORKER.ERROR' } },
          },
        },
        'RunResumed',
        { type: 'StepDispatched', data: { stepId: 'b', input: { got: 42 } } },
      );
  });

  it('skipping a completed step is a clear error', () => {
    const error = given(play([], startRun(def), stepCompleted('a')))
      .when(skipStep('a', {}))
      .thenThrows('STEP.ALREADY_TERMINAL');
    expect(error.details).toEqual({ stepId: 'a', status: 'completed' });
  });

  describe('an operator retry of a step that failed before it ever ran goes through its gates again', () => {
    // Given b needs a with any_success, and a failed for good: b fails as unsatisfiable and the run escalates
    const gatedDef = (b: Record<string, unknown>) =>
      workflow(
        { a: { worker: 'w' }, b: { worker: 'w', needs: ['a'], join: 'any_success', ...b } },
        {
          onFailure: 'escalate',
          defaults: { retry: { maxAttempts: 1 } },
        },
      );
    const unsatisfied = (b: Record<string, unknown> = {}) =>
      play([], startRun(gatedDef(b), { go: false }), stepFailed('a'));

    it('its join: no dispatch while its needs still cannot satisfy it', () => {
      const stuck = unsatisfied();
      expect(stateOf(stuck)).toMatchObject({
        status: 'needs_operator',
        steps: { b: { status: 'failed', error: { code: 'JOIN.UNSATISFIED' } } },
      });
      let produced: WorkflowEvent[] = [];
      try {
        produced = decide(retryStep('b'), fold(stuck)).events;
      } catch (error) {
        // refusing is fine, as long as it says why
        expect((error as { code?: unknown }).code).toBe('STEP.NOT_RETRYABLE_NOW');
      }
      expect(dispatches(produced)).toEqual([]);
    });

    it('governance: a side-effecting step is checked before it is dispatched', () => {
      // When the operator supplies a's output, then retries b
      const history = play(unsatisfied({ sideEffect: true }), skipStep('a', { id: 1 }));
      const retried = given(history)
        .when(retryStep('b'))
        .thenIncludes('OperatorRetried', 'RunResumed', { type: 'GovernanceCheckRequested', data: { stepId: 'b' } });
      expect(dispatches(retried.produced)).toEqual([]);
    });

    it('its condition: a step whose when is false is skipped, not dispatched', () => {
      const history = play(unsatisfied({ when: '${{ input.go }}' }), skipStep('a', { id: 1 }));
      const retried = given(history)
        .when(retryStep('b'))
        .thenIncludes('OperatorRetried', { type: 'StepSkipped', data: { stepId: 'b', kind: 'condition' } });
      expect(dispatches(retried.produced)).toEqual([]);
    });
  });
});

describe('pause, resume and cancel', () => {
  const def = workflow({ a: { worker: 'w' }, b: { worker: 'w', needs: ['a'] }, c: { worker: 'w' } });
  const paused = play([], startRun(def), stepFailed('c', at(10)), pause({ actor: 'ops:ada', ...at(20) }));

  it('pause stops dispatch, but completions and due retries are still recorded', () => {
    given(play([], startRun(def), stepFailed('c', at(10))))
      .when(pause({ actor: 'ops:ada', reason: 'investigating', ...at(20) }))
      .then({ type: 'RunPaused', data: { by: 'ops:ada', reason: 'investigating' } });
    given(paused)
      .when(stepCompleted('a', at(30)))
      .then('StepCompleted');
    given(play(paused, stepCompleted('a', at(30))))
      .when(fireTimer('c:2:retry', at(1_010)))
      .then('TimerFired');
  });

  it('resume dispatches what became ready and the retries that fell due', () => {
    const history = play(paused, stepCompleted('a', at(30)), fireTimer('c:2:retry', at(1_010)));
    given(history)
      .when(resume({ actor: 'ops:ada', ...at(2_000) }))
      .then(
        { type: 'RunResumed', data: { by: 'ops:ada' } },
        { type: 'StepDispatched', data: { stepId: 'b', attempt: 1 } },
        { type: 'StepDispatched', data: { stepId: 'c', attempt: 2 } },
      );
  });

  it('cancel ends the run, cancels what is in flight, and drops its timers', () => {
    const cancelled = given(play([], startRun(def)))
      .when(cancel({ actor: 'ops:ada', reason: 'duplicate hire' }))
      .then({ type: 'RunCancelled', data: { by: 'ops:ada', reason: 'duplicate hire' } });
    expect(cancelled.state).toMatchObject({
      status: 'cancelled',
      timers: {},
      steps: { a: { status: 'cancelled' }, b: { status: 'cancelled' }, c: { status: 'cancelled' } },
    });
    given(cancelled.events).when(stepCompleted('a')).thenNothing();
  });
});

describe('operator commands that do not apply are errors with stable codes', () => {
  const def = workflow({ a: { worker: 'w' }, gate: { type: 'approval', needs: ['a'] } });
  const running = play([], startRun(def));

  it.each([
    ['RUN.NOT_FOUND', [], pause()],
    ['RUN.NOT_RUNNING', play(running, pause()), pause()],
    ['RUN.NOT_PAUSED', running, resume()],
    ['RUN.ALREADY_TERMINAL', play(running, cancel()), cancel()],
    ['RUN.ALREADY_TERMINAL', play(running, cancel()), retryStep('a')],
    ['STEP.NOT_FOUND', running, approve('ghost')],
    ['STEP.NOT_FOUND', running, skipStep('ghost', null)],
    ['STEP.NOT_AWAITING_APPROVAL', running, approve('a')],
    ['STEP.NOT_AWAITING_APPROVAL', running, reject('gate')],
    ['STEP.NOT_FAILED', running, retryStep('a')],
    ['STEP.ALREADY_TERMINAL', play(running, stepCompleted('a')), retryStep('a')],
    ['COMMAND.INVALID', running, skipStep('a', undefined)],
  ] as const)('%s', (code, history, command) => {
    given(history).when(command).thenThrows(code);
  });

  it('STEP.NOT_RETRYABLE_NOW for a failed step once the run is compensating', () => {
    const saga = workflow(
      {
        a: { worker: 'w', compensate: { action: 'undo' } },
        b: { worker: 'w', needs: ['a'], retry: { maxAttempts: 1 } },
      },
      { onFailure: 'compensate' },
    );
    const history = play([], startRun(saga), stepCompleted('a'), stepFailed('b'));
    expect(stateOf(history).status).toBe('compensating');
    given(history).when(retryStep('b')).thenThrows('STEP.NOT_RETRYABLE_NOW');
  });
});

describe('replay', () => {
  it('folding the stream gives the state the decider built step by step, at every revision', () => {
    const def = workflow(
      {
        a: { worker: 'w', compensate: { action: 'undo' }, heartbeatTimeout: '5s' },
        gate: { type: 'approval', needs: ['a'] },
        b: { worker: 'w', needs: ['a'], sideEffect: true, compensate: { action: 'undo' } },
        c: { worker: 'w', needs: ['gate', 'b'], retry: { maxAttempts: 1 } },
      },
      { onFailure: 'compensate' },
    );
    const commands = [
      startRun(def, { n: 1 }),
      stepStarted('a', at(1)),
      heartbeat('a', at(3)),
      stepFailed('a', at(4)),
      fireTimer('a:2:retry', at(1_004)),
      stepCompleted('a', { attempt: 2, ...at(1_100) }),
      governance('b', 'allow', at(1_200)),
      approve('gate', at(1_300)),
      stepCompleted('b', at(1_400)),
      stepFailed('c', at(1_500)),
      stepCompleted('b', { phase: 'compensate', ...at(1_600) }),
      stepCompleted('a', { phase: 'compensate', ...at(1_700) }),
    ];
    let state: RunState = initialState();
    const events: WorkflowEvent[] = [];
    const states: RunState[] = [];
    for (const command of commands) {
      for (const event of decide(withAskedDigest(command, state), state).events) {
        state = evolve(state, event);
        events.push(event);
        states.push(state);
      }
    }
    expect(stateOf(events).status).toBe('compensated');
    expect(fold(events)).toEqual(state);
    expect(fold(events)).toEqual(fold(events));
    expect(stateOf(events).version).toBe(events.length);
    states.forEach((s, i) => expect(fold(events.slice(0, i + 1))).toEqual(s));
    // and the events survive a round trip through JSON, as they do through the event store
    expect(fold(JSON.parse(JSON.stringify(events)) as WorkflowEvent[])).toEqual(JSON.parse(JSON.stringify(state)));
  });
});
