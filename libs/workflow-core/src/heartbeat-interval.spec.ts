/** The heartbeat pace a command carries: derived from the step's heartbeatTimeout, so workers need not guess it. */
import { describe, expect, it } from '@jest/globals';
import { heartbeatIntervalMs } from './policies.ts';
import { workflow } from './testing/decider-spec.ts';

describe('heartbeatIntervalMs', () => {
  const def = workflow(
    {
      watched: { worker: 'w', heartbeatTimeout: '9s', compensate: { action: 'undo' } },
      odd: { worker: 'w', heartbeatTimeout: '10s' },
      tiny: { worker: 'w', heartbeatTimeout: '2ms' },
      inherited: { worker: 'w' },
    },
    { defaults: { timeout: '30s', heartbeatTimeout: '1m' } },
  );
  const plain = workflow({ a: { worker: 'w' } });

  it('is a third of the heartbeatTimeout, a whole number of ms, at least 1', () => {
    expect(heartbeatIntervalMs(def, 'watched', 'execute')).toBe(3_000);
    expect(heartbeatIntervalMs(def, 'odd', 'execute')).toBe(3_333);
    expect(heartbeatIntervalMs(def, 'tiny', 'execute')).toBe(1);
    expect(heartbeatIntervalMs(def, 'inherited', 'execute')).toBe(20_000);
  });

  it('is null where nothing watches for heartbeats: no heartbeatTimeout, a compensation, an unknown step', () => {
    expect(heartbeatIntervalMs(plain, 'a', 'execute')).toBeNull();
    expect(heartbeatIntervalMs(def, 'watched', 'compensate')).toBeNull();
    for (const stepId of ['ghost', '__proto__', 'constructor'])
      expect(heartbeatIntervalMs(def, stepId, 'execute')).toBeNull();
  });
});
