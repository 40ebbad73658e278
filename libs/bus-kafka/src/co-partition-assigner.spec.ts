import { describe, expect, it } from '@jest/globals';
import type { ClusterMetadata, ExtendedGroupProtocolSubscription } from '@platformatic/kafka';
import { coPartitionAssigner } from './co-partition-assigner.ts';

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
