import { describe, expect, it } from '@jest/globals';
import type { SealedCheckpoint } from './adapter.ts';
import { createInMemoryEventStore } from './index.ts';
import { describeEventStoreConformance } from './testing/index.ts';
import type { CheckpointTampering } from './testing/index.ts';

/** Each store the factory makes keeps its checkpoints in a map the suite can reach, to damage one. */
function tamperable(): {
  factory: () => Promise<ReturnType<typeof createInMemoryEventStore>>;
  checkpoints: CheckpointTampering;
} {
  let records = new Map<string, SealedCheckpoint>();
  return {
    factory: async () => createInMemoryEventStore({ checkpointRecords: (records = new Map()) }),
    checkpoints: {
      async corrupt(name) {
        const sealed = records.get(name);
        if (sealed === undefined) throw new Error(`no checkpoint ${name} to corrupt`);
        records.set(name, { ...sealed, state: `${sealed.state.slice(0, -1)}]` });
      },
    },
  };
}

const dense = tamperable();
describeEventStoreConformance('in-memory', dense.factory, { checkpoints: dense.checkpoints });
// The suite's mode for stores whose positions only increase (KurrentDB), run here so that mode is exercised.
const sparse = tamperable();
describeEventStoreConformance('in-memory, positions checked by log order', sparse.factory, {
  densePositions: false,
  streams: 1000,
  checkpoints: sparse.checkpoints,
});

describe('in-memory event store', () => {
  it('takes ids and time from the injected sources', async () => {
    let next = 0;
    const store = createInMemoryEventStore({
      ids: () => `id-${(next += 1)}`,
      now: () => new Date('2025-03-04T05:06:07.000Z'),
    });
    await store.append('s', [
      { type: 'A', data: 1 },
      { id: 'given', type: 'B', data: 2 },
      { type: 'C', data: 3 },
    ]);
    const events = await store.readStream('s');
    expect(events.map((event) => event.id)).toEqual(['id-1', 'given', 'id-2']);
    expect(events.every((event) => event.recordedAt === '2025-03-04T05:06:07.000Z')).toBe(true);
  });

  it('keeps what it recorded safe from later mutation by the caller or a reader', async () => {
    const store = createInMemoryEventStore();
    const data = { items: ['a'] };
    await store.append('s', [{ type: 'A', data }]);
    data.items.push('b');
    const [event] = await store.readStream('s');
    expect(event?.data).toEqual({ items: ['a'] });
    expect(() => (event?.data as { items: string[] }).items.push('c')).toThrow(TypeError);
  });

  describe('argument validation', () => {
    const store = createInMemoryEventStore();
    const cases: Array<[string, () => Promise<unknown>, string]> = [
      ['a non-string streamId', () => store.append(42 as unknown as string, []), 'streamId must be a non-empty string'],
      ['an empty streamId', () => store.readStream(''), 'streamId must be a non-empty string'],
      ['an empty streamId for streamRevision', () => store.streamRevision(''), 'streamId must be a non-empty string'],
      ['events that are not an array', () => store.append('s', {} as unknown as []), 'events must be an array'],
      [
        'an event that is not an object',
        () => store.append('s', [null as unknown as { type: string; data: unknown }]),
        'events[0] must be an object',
      ],
      [
        'an event without a type',
        () =>
          store.append('s', [
            { type: 'A', data: 1 },
            { type: '', data: 1 },
          ]),
        'events[1].type must be a non-empty string',
      ],
      [
        'an empty event id',
        () => store.append('s', [{ id: '', type: 'A', data: 1 }]),
        'events[0].id must be a non-empty string when given',
      ],
      [
        'undefined data',
        () => store.append('s', [{ type: 'A', data: undefined }]),
        'events[0].data must be JSON-serializable',
      ],
      [
        'data with a bigint',
        () => store.append('s', [{ type: 'A', data: { n: 1n } }]),
        'events[0].data must be JSON-serializable',
      ],
      [
        'metadata that is an array',
        () => store.append('s', [{ type: 'A', data: 1, metadata: [] as unknown as Record<string, unknown> }]),
        'events[0].metadata must be a plain object when given',
      ],
      [
        'a fractional expectedRevision',
        () => store.append('s', [], { expectedRevision: 1.5 }),
        "expectedRevision must be 'any', 'no_stream', 'stream_exists' or a non-negative integer",
      ],
      [
        'an unknown expectedRevision',
        () => store.append('s', [], { expectedRevision: 'latest' as 'any' }),
        "expectedRevision must be 'any', 'no_stream', 'stream_exists' or a non-negative integer",
      ],
      [
        'a negative fromRevision',
        () => store.readStream('s', { fromRevision: -1 }),
        'fromRevision must be a non-negative integer',
      ],
      [
        'an unknown direction',
        () => store.readStream('s', { direction: 'sideways' as 'forwards' }),
        "direction must be 'forwards' or 'backwards'",
      ],
      ['a negative after', () => store.readAll({ after: -1 }), 'after must be a non-negative integer'],
      [
        'a non-integer maxCount',
        () => store.readAll({ maxCount: Number.NaN }),
        'maxCount must be a non-negative integer',
      ],
    ];

    it.each(cases)('rejects %s', async (_label, call, message) => {
      const error = await call().then(
        () => undefined,
        (reason: unknown) => reason,
      );
      expect(error).toBeInstanceOf(TypeError);
      expect((error as TypeError).message).toBe(message);
    });

    it('throws synchronously for invalid subscription arguments', () => {
      expect(() => store.subscribeToAll({ after: -1 }, () => undefined)).toThrow(
        new TypeError('after must be a non-negative integer'),
      );
      expect(() => store.subscribeToAll({}, 'nope' as unknown as () => void)).toThrow(
        new TypeError('handler must be a function'),
      );
    });
  });
});
