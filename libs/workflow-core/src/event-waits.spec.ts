/** Event steps (`type: event`): waiting, taking the event's payload as output, and timing out as configured. */
import { describe, expect, it } from '@jest/globals';
import {
  cancel,
  deliverEvent,
  fireTimer,
  given,
  play,
  retryStep,
  skipStep,
  startRun,
  stateOf,
  stepCompleted,
  T0,
  timerIdOf,
  workflow,
} from './testing/decider-spec.ts';
import { effectsOf } from './effects.ts';
import { outstanding } from './recovery.ts';

const HOUR = 3_600_000;
const at = (ms: number) => ({ now: T0 + ms });
const invoice = (wait: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) =>
  workflow(
    {
      send: { worker: 'mail' },
      confirmed: {
        type: 'event',
        needs: ['send'],
        event: 'bank.confirmed',
        match: '${{ input.invoiceId }}',
        timeout: '2h',
        ...wait,
      },
      book: { worker: 'ledger', needs: ['confirmed'], input: { amount: '${{ steps.confirmed.output.amount }}' } },
    },
    extra,
  );
const input = { invoiceId: 'inv-7' };
const waiting = (wait: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) =>
  play([], startRun(invoice(wait, extra), input), stepCompleted('send', at(10)));
const timer = (events: ReturnType<typeof waiting>) => timerIdOf(events, 'event_timeout', 'confirmed');

describe('an event step', () => {
  it('starts waiting once its needs are done: the key is its match evaluated, with a timeout armed', () => {
    const started = given(play([], startRun(invoice(), input)))
      .when(stepCompleted('send', at(10)))
      .then(
        'StepCompleted',
        {
          type: 'EventWaitStarted',
          data: { stepId: 'confirmed', event: 'bank.confirmed', key: 'inv-7', timeoutAt: T0 + 10 + 2 * HOUR },
        },
        { type: 'TimerScheduled', data: { timer: { kind: 'event_timeout', stepId: 'confirmed' } } },
      );
    expect(stateOf(started.events).steps.confirmed).toMatchObject({
      status: 'waiting_event',
      event: 'bank.confirmed',
      key: 'inv-7',
      since: T0 + 10,
    });
    // The runtime is asked to register the wait (and hand over an event that came early).
    expect(started.produced.flatMap(effectsOf)).toContainEqual({
      type: 'AwaitEvent',
      data: { stepId: 'confirmed', event: 'bank.confirmed', key: 'inv-7', since: T0 + 10 },
    });
  });

  it('completes with the payload of its event as output, and the run goes on with it', () => {
    given(waiting())
      .when(deliverEvent('bank.confirmed', 'inv-7', { ...at(60), eventId: 'e1', payload: { amount: 120 } }))
      .then(
        {
          type: 'ExternalEventReceived',
          data: { stepId: 'confirmed', event: 'bank.confirmed', key: 'inv-7', eventId: 'e1', payload: { amount: 120 } },
        },
        { type: 'StepCompleted', data: { stepId: 'confirmed', output: { amount: 120 } } },
        { type: 'StepDispatched', data: { stepId: 'book', input: { amount: 120 } } },
      );
  });

  it('ignores an event for another key or name, and a second event once it has one', () => {
    given(waiting())
      .when(deliverEvent('bank.confirmed', 'inv-8'))
      .thenIgnores('no_waiter', /key "inv-8"/);
    given(waiting()).when(deliverEvent('bank.rejected', 'inv-7')).thenIgnores('no_waiter');
    const done = play(waiting(), deliverEvent('bank.confirmed', 'inv-7', { eventId: 'e1', payload: { amount: 1 } }));
    given(done)
      .when(deliverEvent('bank.confirmed', 'inv-7', { eventId: 'e1', payload: { amount: 1 } }))
      .thenIgnores('no_waiter');
  });

  it('ignores an event that comes before it waits (the runtime buffers it) or after the run ended', () => {
    given(play([], startRun(invoice(), input)))
      .when(deliverEvent('bank.confirmed', 'inv-7'))
      .thenIgnores('no_waiter');
    given(play(waiting(), cancel())).when(deliverEvent('bank.confirmed', 'inv-7')).thenIgnores('no_waiter');
  });

  it('times out with EVENT.TIMED_OUT by default, and the run follows onFailure', () => {
    const events = waiting({}, { onFailure: 'fail' });
    given(events)
      .when(fireTimer(timer(events), at(10 + 2 * HOUR)))
      .then(
        'TimerFired',
        { type: 'EventWaitTimedOut', data: { stepId: 'confirmed', event: 'bank.confirmed', key: 'inv-7' } },
        {
          type: 'StepFailed',
          data: {
            stepId: 'confirmed',
            error: {
              code: 'EVENT.TIMED_OUT',
              message: 'event "bank.confirmed" with key "inv-7" did not come within 2h',
              retryable: false,
            },
          },
        },
        { type: 'RunFailed', data: { stepId: 'confirmed' } },
      );
  });

  it('on onTimeout: skip, is skipped (kind timeout) with a null output, and the run goes on', () => {
    const events = waiting({ onTimeout: 'skip' });
    const skipped = given(events)
      .when(fireTimer(timer(events), at(10 + 2 * HOUR)))
      .thenIncludes('EventWaitTimedOut', {
        type: 'StepSkipped',
        data: { stepId: 'confirmed', kind: 'timeout', output: null },
      });
    expect(stateOf(skipped.events).steps.confirmed).toMatchObject({ status: 'skipped', skipKind: 'timeout' });
  });

  it('on onTimeout: escalate, asks an operator and goes on waiting: a late event still completes it', () => {
    const events = waiting({ onTimeout: 'escalate' });
    const escalated = given(events)
      .when(fireTimer(timer(events), at(10 + 2 * HOUR)))
      .then('TimerFired', 'EventWaitTimedOut', {
        type: 'RunNeedsOperator',
        data: { code: 'EVENT.TIMED_OUT', stepId: 'confirmed' },
      });
    expect(stateOf(escalated.events)).toMatchObject({
      status: 'needs_operator',
      steps: { confirmed: { status: 'waiting_event' } },
    });
    // The reason the run waited for an operator is gone: it resumes and goes on by itself.
    given(escalated.events)
      .when(deliverEvent('bank.confirmed', 'inv-7', { payload: { amount: 3 } }))
      .then(
        'ExternalEventReceived',
        { type: 'StepCompleted', data: { output: { amount: 3 } } },
        { type: 'RunResumed', data: { by: 'system:events', reason: 'its event came' } },
        { type: 'StepDispatched', data: { stepId: 'book', input: { amount: 3 } } },
      );
    // Or an operator skips it with the output it stands for.
    given(escalated.events)
      .when(skipStep('confirmed', { amount: 4 }))
      .thenIncludes({ type: 'StepSkipped', data: { stepId: 'confirmed', kind: 'operator', output: { amount: 4 } } });
  });

  it('an operator retry of a timed-out wait waits afresh: the timer of the wait before cannot end the new one', () => {
    const first = waiting({}, { onFailure: 'escalate' });
    const events = play(first, fireTimer(timer(first), at(10 + 2 * HOUR)));
    expect(stateOf(events)).toMatchObject({ status: 'needs_operator', steps: { confirmed: { status: 'failed' } } });
    const retried = given(events)
      .when(retryStep('confirmed', at(3 * HOUR)))
      .thenIncludes('OperatorRetried', { type: 'EventWaitStarted', data: { timeoutAt: T0 + 5 * HOUR } });
    const state = stateOf(retried.events);
    expect(Object.values(state.timers).filter((t) => t.kind === 'event_timeout')).toHaveLength(1);
    given(retried.events)
      .when(fireTimer(timer(first), at(4 * HOUR)))
      .thenIgnores('timer_gone');
  });

  it('cancels the wait with the run', () => {
    const cancelled = given(waiting()).when(cancel()).thenIncludes('RunCancelled');
    expect(stateOf(cancelled.events)).toMatchObject({ steps: { confirmed: { status: 'cancelled' } }, timers: {} });
  });

  it('waits without a deadline when it declares no timeout', () => {
    const events = waiting({ timeout: undefined });
    expect(stateOf(events).steps.confirmed).toMatchObject({ status: 'waiting_event', timeoutAt: null });
    expect(Object.values(stateOf(events).timers)).toEqual([]);
  });

  it('fails with EXPRESSION.ERROR when its match is not a key, and within the expression budget', () => {
    const noKey = play([], startRun(invoice({ match: '${{ input.missing }}' }), input), stepCompleted('send', at(10)));
    expect(stateOf(noKey).steps.confirmed).toMatchObject({
      status: 'failed',
      error: { code: 'EXPRESSION.ERROR' },
    });
    const list = play([], startRun(invoice({ match: '${{ input.tags }}' }), { tags: ['a'] }), stepCompleted('send'));
    expect(stateOf(list).steps.confirmed).toMatchObject({
      status: 'failed',
      error: { code: 'EXPRESSION.ERROR', message: 'match: must evaluate to a string, not ["a"]' },
    });
    const budget = play(
      [],
      startRun(invoice({ match: '${{ string(input.items.map(x, x * 2).size()) }}' }), {
        items: Array.from({ length: 1_000_000 }, (_, i) => i),
      }),
      stepCompleted('send'),
    );
    expect(stateOf(budget).steps.confirmed).toMatchObject({
      status: 'failed',
      error: { code: 'EXPRESSION.BUDGET_EXCEEDED', retryable: false },
    });
  });

  it('is handed its wait again on recovery while it waits, and not once it has its event', () => {
    const events = waiting();
    expect(outstanding(events).awaits).toEqual([
      { type: 'AwaitEvent', data: { stepId: 'confirmed', event: 'bank.confirmed', key: 'inv-7', since: T0 + 10 } },
    ]);
    expect(outstanding(play(events, deliverEvent('bank.confirmed', 'inv-7'))).awaits).toEqual([]);
  });
});
