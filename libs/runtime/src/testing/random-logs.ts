// Random global logs for the read side's differential tests: every event type the read models look at, in any
// order (a run's events before its start, a second start, unknown types), across tenants, definitions and noise.
import fc from 'fast-check';
import type { EventData } from '@orchestron/event-store';

export interface LogAppend {
  readonly streamId: string;
  readonly events: readonly EventData[];
}

const STEP = fc.constantFrom('a', 'b', 'c');
const TENANT = fc.constantFrom(undefined, 'acme');

const byStep = (type: string): fc.Arbitrary<EventData> => STEP.map((stepId) => ({ type, data: { stepId } }));
const plain = (type: string): fc.Arbitrary<EventData> => fc.constant({ type, data: { by: 'op', at: 1 } });

const runStarted = (runId: string): fc.Arbitrary<EventData> =>
  fc
    .record({ id: fc.constantFrom('onboarding', 'billing'), version: fc.integer({ min: 1, max: 3 }), tenant: TENANT })
    .map(({ id, version, tenant }) => ({
      type: 'RunStarted',
      data: { runId, definition: { id, version, steps: {}, order: [] }, input: null, ...(tenant ? { tenant } : {}) },
    }));

const runEvent = (runId: string): fc.Arbitrary<EventData> =>
  fc.oneof(
    { arbitrary: runStarted(runId), weight: 2 },
    { arbitrary: fc.constantFrom('RunPaused', 'RunResumed', 'CompensationStarted').chain(plain), weight: 3 },
    {
      arbitrary: fc.constantFrom('RunCompleted', 'RunFailed', 'RunCompensated', 'RunCancelled').chain(plain),
      weight: 1,
    },
    {
      arbitrary: fc
        .tuple(fc.constantFrom('STEP.TIMED_OUT', 'GOVERNANCE.DENIED'), fc.option(STEP, { nil: null }))
        .map(([code, stepId]) => ({ type: 'RunNeedsOperator', data: { code, message: `why ${code}`, stepId, at: 1 } })),
      weight: 1,
    },
    {
      arbitrary: fc
        .constantFrom('ApprovalRequested', 'StepApproved', 'StepRejected', 'StepFailed', 'StepSkipped', 'StepCompleted')
        .chain(byStep),
      weight: 5,
    },
    { arbitrary: fc.constantFrom('StepDispatched', 'StepStarted', 'TimerFired').chain(byStep), weight: 3 },
  );

const definitionRegistered: fc.Arbitrary<LogAppend> = fc
  .record({ id: fc.constantFrom('onboarding', 'billing'), version: fc.integer({ min: 1, max: 3 }), tenant: TENANT })
  .map(({ id, version, tenant }) => {
    const definition = { id, version, steps: { a: { worker: 'w' } }, order: ['a'] };
    return {
      streamId: tenant ? `definition-${tenant}.${id}` : `definition-${id}`,
      events: [
        {
          type: 'DefinitionRegistered',
          data: { definition, fingerprint: JSON.stringify(definition), ...(tenant ? { tenant } : {}) },
        },
      ],
    };
  });

const runAppend: fc.Arbitrary<LogAppend> = fc
  .constantFrom('r0', 'r1', 'r2', 'r3', 'r4', 'r5')
  .chain((runId) =>
    fc.array(runEvent(runId), { minLength: 1, maxLength: 4 }).map((events) => ({ streamId: `run-${runId}`, events })),
  );

const noise: fc.Arbitrary<LogAppend> = fc.constant({
  streamId: 'refusal-c1',
  events: [{ type: 'CommandRefused', data: { code: 'RUN.NOT_RUNNING' } }],
});

/** A log as a list of appends: mostly run events, some registrations, a little noise. */
export const randomLog: fc.Arbitrary<LogAppend[]> = fc.array(
  fc.oneof(
    { arbitrary: runAppend, weight: 8 },
    { arbitrary: definitionRegistered, weight: 1 },
    { arbitrary: noise, weight: 1 },
  ),
  { maxLength: 60 },
);
