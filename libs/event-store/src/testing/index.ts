import { afterEach, beforeEach, describe } from '@jest/globals';
import type { EventStore } from '../event-store.port.ts';
import { describeAppendConformance } from './append.conformance.ts';
import { describeReadConformance } from './read.conformance.ts';
import { describeScaleConformance } from './scale.conformance.ts';
import { describeSubscribeConformance } from './subscribe.conformance.ts';

export interface EventStoreConformanceOptions {
  /** Streams in the many-streams test. Defaults to 10,000. */
  readonly streams?: number;
}

/** The contract every EventStore adapter must honour. Each test gets a fresh, empty store from `factory`. */
export function describeEventStoreConformance(name: string, factory: () => Promise<EventStore>, options: EventStoreConformanceOptions = {}): void {
  describe(`${name} conforms to the EventStore port`, () => {
    let current: EventStore | undefined;
    const getStore = (): EventStore => {
      if (current === undefined) throw new Error('the conformance suite has no store: did the factory fail?');
      return current;
    };

    beforeEach(async () => {
      current = await factory();
    });

    afterEach(async () => {
      await current?.close();
      current = undefined;
    });

    describeAppendConformance(getStore);
    describeReadConformance(getStore);
    describeSubscribeConformance(getStore);
    describeScaleConformance(getStore, options.streams ?? 10_000);
  });
}
