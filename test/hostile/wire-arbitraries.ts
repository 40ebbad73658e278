// Hostile wire messages, shared by the hostile-message suite (against the in-process engine) and the fault suite
// (against the stack's Kafka topics): each is refused by the parser of the topic it is sent to, by construction or by
// the sender's check.
import fc from 'fast-check';
import { MAX_MESSAGE_DEPTH } from '@orchestron/definitions';
import { deepArray, deepObject } from './arbitraries.ts';

export const RUN_ID = '0197c9a2-4f1e-7c3b-9a51-2b0d6f3e8a10';

/** A message that is almost right: a real shape with one field broken, or not a message at all. */
export const hostileMessage = fc.oneof(
  fc.anything({ maxDepth: 3 }),
  fc.record(
    {
      type: fc.constantFrom('step.completed', 'step.failed', 'step.started'),
      runId: fc.oneof(fc.constant(RUN_ID), fc.constant(''), fc.integer()),
      stepId: fc.oneof(fc.string(), fc.constant(null)),
      attempt: fc.oneof(fc.integer({ max: 0 }), fc.double(), fc.string()),
      phase: fc.string(),
    },
    { requiredKeys: [] },
  ),
  fc.record(
    {
      type: fc.constant('workflow.start'),
      definitionId: fc.oneof(fc.integer(), fc.constant('')),
      idempotencyKey: fc.oneof(fc.constant(''), fc.string({ minLength: 201, maxLength: 400 })),
      tenant: fc.constantFrom('A', '../x', 'a b'),
    },
    { requiredKeys: ['type'] },
  ),
  fc.record(
    {
      type: fc.constant('operator.command'),
      commandId: fc.constant(''),
      runId: fc.constant(RUN_ID),
      actor: fc.integer(),
      command: fc.anything({ maxDepth: 1 }),
    },
    { requiredKeys: ['type'] },
  ),
  fc.integer({ min: MAX_MESSAGE_DEPTH + 1, max: 5_000 }).map((n) => ({
    type: 'step.completed',
    runId: RUN_ID,
    stepId: 'a',
    attempt: 1,
    phase: 'execute',
    output: JSON.parse(deepArray(Math.min(n, 2_000))) as unknown,
  })),
  fc
    .constantFrom(Number.POSITIVE_INFINITY, Number.NaN, -0)
    .map((n) => ({ type: 'step.completed', runId: RUN_ID, stepId: 'a', attempt: 1, phase: 'execute', output: { n } })),
);

/** Raw bytes a producer could put on a topic. */
export const hostileBytes = fc.oneof(
  fc.string({ maxLength: 60 }),
  fc.integer({ min: MAX_MESSAGE_DEPTH + 1, max: 50_000 }).chain((n) => fc.constantFrom(deepArray(n), deepObject(n))),
  fc.constantFrom(
    '1e309',
    '{"a":-1e999}',
    '{"__proto__":{"x":1}}',
    '{"constructor":{"prototype":{}}}',
    '{"a":1',
    '\u0000',
    '\ud800',
  ),
);
