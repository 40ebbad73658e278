import type { GroupAssignment, GroupPartitionsAssigner, GroupPartitionsAssignments } from '@platformatic/kafka';

/**
 * Hands partition p of every topic to the same member (p modulo the member count, members in the order the group
 * coordinator lists them, which keeps earlier members in place when one joins), as Kafka's range assignor does for
 * topics with equal partition counts. Every topic about a run is keyed by its id, so one
 * instance then owns all of a run's messages: its starts, reports, commands and decisions. The client's default,
 * round robin over all topic-partitions, would scatter them across instances.
 */
export const coPartitionAssigner: GroupPartitionsAssigner = (_current, members, topics, metadata) => {
  const result: GroupPartitionsAssignments[] = [...members.keys()].map((memberId) => ({
    memberId,
    assignments: new Map<string, GroupAssignment>(),
  }));
  for (const topic of [...topics].sort()) {
    const count = metadata.topics.get(topic)?.partitionsCount ?? 0;
    const subscribers = result.filter((r) => {
      const subscribed = members.get(r.memberId)?.topics;
      return subscribed === undefined || subscribed.includes(topic);
    });
    if (subscribers.length === 0) continue;
    for (let partition = 0; partition < count; partition++) {
      const owner = subscribers[partition % subscribers.length] as GroupPartitionsAssignments;
      const entry = owner.assignments.get(topic) ?? { topic, partitions: [] };
      entry.partitions.push(partition);
      owner.assignments.set(topic, entry);
    }
  }
  return result;
};
