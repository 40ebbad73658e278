import { describe, expect, it } from '@jest/globals';
import { traceparentForRun } from '@orchestron/telemetry';
import { checkCommand, dispatchTraceparent } from './protocol.ts';

describe('the commands worker-check sends', () => {
  it('carry the traceparent the orchestrator would put on the dispatch: the run trace, the span of the key', () => {
    for (const [runId, key] of [
      ['worker-check-1a2b3c4d-execute', 'worker-check-1a2b3c4d-execute/check/1'],
      ['r', 'r/check/compensate/2'],
      ['ünïcødé ☃', 'k'],
    ] as const)
      expect(dispatchTraceparent(runId, key)).toBe(traceparentForRun(runId, key));
  });

  it('name the idempotency key as the contract derives it, for both phases', () => {
    const spec = { runId: 'r1', worker: 'w', deadline: null, heartbeatIntervalMs: null, sleepMs: 5, nonce: 'n' };
    expect(checkCommand({ ...spec, attempt: 3, phase: 'execute' })).toEqual({
      type: 'step.execute',
      runId: 'r1',
      stepId: 'check',
      attempt: 3,
      worker: 'w',
      action: 'worker-check',
      input: { sleepMs: 5, nonce: 'n' },
      idempotencyKey: 'r1/check/3',
      deadline: null,
      heartbeatIntervalMs: null,
      definitionId: 'worker-check',
    });
    expect(checkCommand({ ...spec, attempt: 1, phase: 'compensate' })).toMatchObject({
      type: 'step.compensate',
      idempotencyKey: 'r1/check/compensate/1',
    });
  });
});
