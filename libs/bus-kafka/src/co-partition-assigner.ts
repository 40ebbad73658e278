import type {
  ExtendedGroupProtocolSubscription,
  GroupAssignment,
  GroupPartitionsAssigner,
  GroupPartitionsAssignments,
} from '@platformatic/kafka';

type Members = ReadonlyMap<string, ExtendedGroupProtocolSubscription>;

/**
 * The group protocols a member offers, preferred first. The coordinator picks the first one every member offers;
 * with `cooperative-sticky` the client runs the incremental protocol (a member gives up only the partitions the
 * assignment takes from it, and keeps consuming the others), and each member reports the partitions it owns, which
 * keeps this assigner sticky. `roundrobin` (the client's default, what members before ADR 22 offered) keeps a
 * group of old and new members working during a rolling upgrade, eagerly, as before.
 */
export const GROUP_PROTOCOLS = [
  { name: 'cooperative-sticky', version: 3 },
  { name: 'roundrobin', version: 1 },
];

/**
 * Hands partition p of every topic to the same member, as Kafka's range assignor does for topics with equal
 * partition counts: every topic about a run is keyed by its id, so one instance then owns all of a run's messages
 * (its starts, reports, commands and decisions). The client's default would scatter them across instances.
 *
 * It is sticky: a member keeps the partition numbers it owns, up to its fair share, and only the surplus and the
 * unowned ones (a dead member's) are handed out again. And it is cooperative: a partition that another member still
 * reports as its own is given to nobody in this round; that member gives it up and rejoins, and the next round
 * hands it over. So no partition is ever assigned to two members at once, and a member that loses nothing keeps
 * consuming throughout.
 */
export const coPartitionAssigner: GroupPartitionsAssigner = (current, members, topics, metadata) =>
  assign(members, topics, metadata, new Map()).result;

/**
 * The assigner with a memory: what it gave each member last time counts as that member's when the member reports
 * owning nothing. A cooperative member reports nothing after its client lost its generation (a commit that met
 * ILLEGAL_GENERATION clears it); without the memory its partitions went elsewhere, which took partitions from
 * others, which rejoined: under load the group never settled. A member really gone is not in `members`.
 */
export function createCoPartitionAssigner(): GroupPartitionsAssigner {
  let previous = new Map<string, number[]>();
  return (_current, members, topics, metadata) => {
    const { result, plan } = assign(members, topics, metadata, previous);
    previous = new Map();
    plan.forEach((id, n) => previous.set(id, [...(previous.get(id) ?? []), n]));
    return result;
  };
}

function assign(
  members: Members,
  topics: Set<string>,
  metadata: Parameters<GroupPartitionsAssigner>[3],
  previous: ReadonlyMap<string, readonly number[]>,
): { result: GroupPartitionsAssignments[]; plan: string[] } {
  const counts = [...topics]
    .sort()
    .map((topic) => ({ topic, count: metadata.topics.get(topic)?.partitionsCount ?? 0 }));
  const plan = planNumbers(members, Math.max(0, ...counts.map((c) => c.count)), previous);
  const result = new Map<string, Map<string, GroupAssignment>>([...members.keys()].map((id) => [id, new Map()]));
  for (const { topic, count } of counts) {
    const subscribers = [...members].filter(([, m]) => m.topics === undefined || m.topics.includes(topic));
    if (subscribers.length === 0) continue;
    const names = subscribers.map(([id]) => id);
    for (let partition = 0; partition < count; partition++) {
      const planned = plan[partition];
      const owner =
        planned !== undefined && names.includes(planned) ? planned : (names[partition % names.length] as string);
      if (claimedByAnother(members, owner, topic, partition)) continue;
      const assignments = result.get(owner) as Map<string, GroupAssignment>;
      const entry = assignments.get(topic) ?? { topic, partitions: [] };
      entry.partitions.push(partition);
      assignments.set(topic, entry);
    }
  }
  return {
    result: [...result].map(([memberId, assignments]): GroupPartitionsAssignments => ({ memberId, assignments })),
    plan,
  };
}

/**
 * Which member gets each partition number, 0 to `numbers - 1`: every member keeps what it owns up to its share
 * (members that own more get the larger shares), then the rest go, lowest number first, to members below their
 * share, in the order the coordinator lists them.
 */
export function planNumbers(
  members: Members,
  numbers: number,
  previous: ReadonlyMap<string, readonly number[]> = new Map(),
): string[] {
  const ids = [...members.keys()];
  if (ids.length === 0) return [];
  const claims = claimedNumbers(members, numbers);
  const claimed = new Set([...claims.values()].flat());
  for (const id of ids)
    if ((claims.get(id) ?? []).length === 0) {
      const before = (previous.get(id) ?? []).filter((n) => n < numbers && !claimed.has(n));
      if (before.length > 0) claims.set(id, before);
      for (const n of before) claimed.add(n);
    }
  const base = Math.floor(numbers / ids.length);
  let larger = numbers % ids.length;
  const byClaims = [...ids].sort((a, b) => (claims.get(b)?.length ?? 0) - (claims.get(a)?.length ?? 0));
  const share = new Map<string, number>();
  for (const id of byClaims) share.set(id, base + (larger-- > 0 ? 1 : 0));
  const plan: (string | undefined)[] = Array.from({ length: numbers }, () => undefined);
  const given = new Map<string, number>(ids.map((id) => [id, 0]));
  for (const id of ids)
    for (const n of (claims.get(id) ?? []).slice(0, share.get(id))) {
      plan[n] = id;
      given.set(id, (given.get(id) as number) + 1);
    }
  const free = plan.flatMap((owner, n) => (owner === undefined ? [n] : []));
  for (const id of ids)
    while ((given.get(id) as number) < (share.get(id) as number) && free.length > 0) {
      plan[free.shift() as number] = id;
      given.set(id, (given.get(id) as number) + 1);
    }
  return plan as string[];
}

/**
 * The partition numbers each member reports owning (on any topic), ascending. Two members can claim one number
 * only across a generation change; the one of the later generation keeps it (the first listed on a tie).
 */
function claimedNumbers(members: Members, numbers: number): Map<string, number[]> {
  const holder = new Map<number, { id: string; generation: number }>();
  for (const [id, member] of members)
    for (const owned of member.ownedPartitions ?? [])
      for (const n of owned.partitions) {
        if (n < 0 || n >= numbers) continue;
        const generation = member.generationId ?? -1;
        const current = holder.get(n);
        if (current === undefined || generation > current.generation) holder.set(n, { id, generation });
      }
  const claims = new Map<string, number[]>();
  for (const [n, { id }] of [...holder].sort(([a], [b]) => a - b)) claims.set(id, [...(claims.get(id) ?? []), n]);
  return claims;
}

function claimedByAnother(members: Members, owner: string, topic: string, partition: number): boolean {
  for (const [id, member] of members) {
    if (id === owner) continue;
    if (member.ownedPartitions?.some((o) => o.topic === topic && o.partitions.includes(partition))) return true;
  }
  return false;
}
