import { afterEach, beforeEach, describe } from '@jest/globals';
import type { EventStore } from '../event-store.port.ts';
import { describeAppendConformance } from './append.conformance.ts';
import { describeAuditIndexConformance, describeNoAuditIndex } from './audit-index.conformance.ts';
import { describeCheckpointConformance, describeNoCheckpoints } from './checkpoints.conformance.ts';
import type { CheckpointTampering } from './checkpoints.conformance.ts';
import { describeReadConformance } from './read.conformance.ts';
import { describeNoReadRows, describeReadRowsConformance } from './read-rows.conformance.ts';
import { describeScaleConformance } from './scale.conformance.ts';
import { describeSubscribeConformance } from './subscribe.conformance.ts';
import { ordinals } from './conformance-kit.ts';

export interface EventStoreConformanceOptions {
  /** Streams in the many-streams test. Defaults to 10,000. */
  readonly streams?: number;
  /**
   * Whether positions are dense from 1 (1, 2, 3…), as on the in-memory, SQLite and PostgreSQL stores. Default
   * true. KurrentDB's commit positions only increase; its suite passes false.
   */
  readonly densePositions?: boolean;
  /**
   * How the suite damages a stored checkpoint behind the adapter, to check that a load refuses it; or false for
   * an adapter without the checkpoints capability. Left out, the corruption test fails and says to pass it.
   */
  readonly checkpoints?: CheckpointTampering | false;
  /** false for an adapter without the read rows capability; left out, the suite holds the adapter to it. */
  readonly readRows?: false;
  /** false for an adapter without the audit index capability; left out, the suite holds the adapter to it. */
  readonly auditIndex?: false;
}

export type { CheckpointTampering };

/** The contract every EventStore adapter must honour. Each test gets a fresh, empty store from `factory`. */
export function describeEventStoreConformance(
  name: string,
  factory: () => Promise<EventStore>,
  options: EventStoreConformanceOptions = {},
): void {
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

    const P = ordinals(getStore, options.densePositions ?? true);
    describeAppendConformance(getStore, P);
    describeReadConformance(getStore, P);
    describeSubscribeConformance(getStore, P);
    describeScaleConformance(getStore, options.streams ?? 10_000);
    if (options.checkpoints === false) describeNoCheckpoints(getStore);
    else describeCheckpointConformance(getStore, P, options.checkpoints);
    if (options.readRows === false) describeNoReadRows(getStore);
    else describeReadRowsConformance(getStore);
    if (options.auditIndex === false) describeNoAuditIndex(getStore);
    else describeAuditIndexConformance(getStore);
  });
}
