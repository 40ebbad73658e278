import { describe, expect, it } from '@jest/globals';
import type { ClusterMetadata, ExtendedGroupProtocolSubscription } from '@platformatic/kafka';
import fc from 'fast-check';
import { coPartitionAssigner, createCoPartitionAssigner } from './co-partition-assigner.ts';

const metadata = (counts: Record<string, number>): ClusterMetadata =>
  ({
    topics: new Map(Object.entries(counts).map(([topic, partitionsCount]) => [topic, { partitionsCount }])),
  }) as unknown as ClusterMetadata;
const members = (ids: string[], topics?: string[]): Map<string, ExtendedGroupProtocolSubscription> =>
  new Map(ids.map((id) => [id, (topics ? { topics } : {}) as ExtendedGroupProtocolSubscription]));

function owners(result: ReturnType<typeof coPartitionAssigner>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const member of result)
    for (const assignment of member.assignments.values())
      for (const p of assignment.partitions) out[`${assignment.topic}/${p}`] = member.memberId;
  return out;
}

describe('the co-partitioning assigner', () => {
  it('gives partition p of every topic to one member, and every partition to someone', () => {
    const result = owners(
      coPartitionAssigner(
        'm-b',
        members(['m-b', 'm-a']),
        new Set(['starts', 'events', 'decisions']),
        metadata({ starts: 3, events: 3, decisions: 3 }),
      ),
    );
    expect(Object.keys(result)).toHaveLength(9);
    for (const p of [0, 1, 2]) {
      expect(result[`starts/${p}`]).toBe(result[`events/${p}`]);
      expect(result[`decisions/${p}`]).toBe(result[`events/${p}`]);
    }
    expect(new Set(Object.values(result))).toEqual(new Set(['m-a', 'm-b']));
    // In the order the coordinator lists the members: the first keeps partition 0.
    expect(result['events/0']).toBe('m-b');
  });

  it('assigns a topic only to members subscribed to it', () => {
    const all = members(['m-a', 'm-b'], ['events']);
    all.set('m-c', { topics: ['events', 'other'] } as ExtendedGroupProtocolSubscription);
    const result = owners(
      coPartitionAssigner('m-a', all, new Set(['events', 'other']), metadata({ events: 3, other: 2 })),
    );
    expect(result['other/0']).toBe('m-c');
    expect(result['other/1']).toBe('m-c');
    expect(new Set([result['events/0'], result['events/1'], result['events/2']])).toEqual(
      new Set(['m-a', 'm-b', 'm-c']),
    );
  });
});

const TOPICS = ['decisions', 'events', 'starts'];

/** Members that own, on every topic, the partition numbers given for them. */
function owning(owned: Record<string, number[]>): Map<string, ExtendedGroupProtocolSubscription> {
  return new Map(
    Object.entries(owned).map(([memberId, numbers]) => [
      memberId,
      {
        memberId,
        version: 3,
        topics: TOPICS,
        generationId: 4,
        ownedPartitions: numbers.length === 0 ? [] : TOPICS.map((topic) => ({ topic, partitions: numbers })),
      } satisfies ExtendedGroupProtocolSubscription,
    ]),
  );
}

/** Each member's partition numbers, checking that every topic gives it the same ones. */
function numbersOf(result: ReturnType<typeof coPartitionAssigner>): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const member of result) {
    const perTopic = TOPICS.map((topic) =>
      [...(member.assignments.get(topic)?.partitions ?? [])].sort((a, b) => a - b),
    );
    for (const numbers of perTopic) expect(numbers).toEqual(perTopic[0]);
    out[member.memberId] = perTopic[0] as number[];
  }
  return out;
}

const six = metadata({ decisions: 6, events: 6, starts: 6 });

describe('the co-partitioning assigner, cooperatively', () => {
  it('leaves the survivors what they own and shares out only what a dead member owned', () => {
    const result = numbersOf(coPartitionAssigner('a', owning({ a: [0, 3], b: [1, 4] }), new Set(TOPICS), six));
    expect(result.a).toEqual(expect.arrayContaining([0, 3]));
    expect(result.b).toEqual(expect.arrayContaining([1, 4]));
    expect([...(result.a ?? []), ...(result.b ?? [])].sort()).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('takes partitions from an owner in one round and gives them to a new member in the next', () => {
    const first = numbersOf(coPartitionAssigner('a', owning({ a: [0, 1, 2, 3, 4, 5], b: [] }), new Set(TOPICS), six));
    // b's share is still a's: nobody gets it yet, and a keeps its other three.
    expect(first).toEqual({ a: [0, 1, 2], b: [] });
    const second = numbersOf(coPartitionAssigner('a', owning({ a: [0, 1, 2], b: [] }), new Set(TOPICS), six));
    expect(second).toEqual({ a: [0, 1, 2], b: [3, 4, 5] });
  });

  it('gives a member that lost its generation (and so reports owning nothing) what it had, not what others have', () => {
    const three = metadata({ decisions: 3, events: 3, starts: 3 });
    const assigner = createCoPartitionAssigner();
    expect(numbersOf(assigner('a', owning({ a: [0, 1], b: [2] }), new Set(TOPICS), three))).toEqual({
      a: [0, 1],
      b: [2],
    });
    expect(numbersOf(assigner('a', owning({ a: [], b: [2] }), new Set(TOPICS), three))).toEqual({ a: [0, 1], b: [2] });
    // Without the memory the larger share goes to b, which owns more now: a's partitions would change hands.
    expect(numbersOf(coPartitionAssigner('a', owning({ a: [], b: [2] }), new Set(TOPICS), three))).toEqual({
      a: [0],
      b: [1, 2],
    });
  });

  it('lets the later generation keep a partition two members claim, and assigns it to neither meanwhile', () => {
    const members = owning({ a: [0, 1, 2], b: [2, 3, 4, 5] });
    (members.get('a') as { generationId: number }).generationId = 3;
    const result = numbersOf(coPartitionAssigner('a', members, new Set(TOPICS), six));
    expect(result.a).not.toContain(2);
    expect(result.b).not.toContain(2);
  });

  it('never assigns a partition that another member still owns, and settles co-partitioned within two rounds', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom('join', 'die'), fc.integer({ min: 0, max: 5 })), {
          minLength: 1,
          maxLength: 12,
        }),
        fc.integer({ min: 1, max: 9 }),
        (changes, partitions) => {
          const meta = metadata(Object.fromEntries(TOPICS.map((t) => [t, partitions])));
          let owned: Record<string, number[]> = { m0: [] };
          const round = (): Record<string, number[]> => {
            const members = owning(owned);
            const next = numbersOf(coPartitionAssigner('m0', members, new Set(TOPICS), meta));
            for (const [id, numbers] of Object.entries(next))
              for (const [other, theirs] of Object.entries(owned))
                if (other !== id) for (const n of numbers) expect(theirs).not.toContain(n);
            return next;
          };
          for (const [change, which] of changes) {
            const name = `m${which}`;
            if (change === 'join' && owned[name] === undefined) owned = { ...owned, [name]: [] };
            if (change === 'die' && Object.keys(owned).length > 1) delete owned[name];
            owned = round();
            owned = round();
            const all = Object.values(owned)
              .flat()
              .sort((a, b) => a - b);
            expect(all).toEqual(Array.from({ length: partitions }, (_, i) => i));
          }
        },
      ),
    );
  });
});
