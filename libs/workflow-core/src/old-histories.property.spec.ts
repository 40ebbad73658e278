import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { asRecordedBefore, expectSameFolds } from './testing/before-adr38.ts';
import { drive, scenario } from './testing/random-runs.ts';

describe('random runs recorded before ADRs 38 and 39 (a TimerScheduled after each dispatch, release, retry and governance request)', () => {
  it('fold to the same state as the same runs recorded now, timers included, after every event', () => {
    fc.assert(
      fc.property(scenario, (sc) => {
        const { events } = drive(sc);
        expectSameFolds(events, asRecordedBefore(events));
      }),
      { numRuns: 300 },
    );
  });

  it('leave recovery the same work to do again at any point', () => {
    fc.assert(
      fc.property(scenario, fc.double({ min: 0, max: 1, noNaN: true }), (sc, where) => {
        const { events } = drive(sc);
        const cut = Math.floor(where * events.length);
        expectSameFolds(events.slice(0, cut), asRecordedBefore(events.slice(0, cut)), { recovery: true });
      }),
      { numRuns: 60 },
    );
  });

  it('the decider records no TimerScheduled for the timers those events arm themselves', () => {
    fc.assert(
      fc.property(scenario, (sc) => {
        const kinds = drive(sc).events.flatMap((e) => (e.type === 'TimerScheduled' ? [e.data.timer.kind] : []));
        const armedByTheirEvent = ['attempt_timeout', 'retry', 'governance_timeout'];
        expect(kinds.filter((kind) => armedByTheirEvent.includes(kind))).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });
});
