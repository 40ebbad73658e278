// A consumer in a child process, for the static membership test: node static-member-child.ts <brokers> <topic>
// <group> <name|-> <sessionTimeoutMs>. Prints "assigned <n>" whenever the group hands it partitions, and
// "message <partition>" for the first message of each partition.
import { createKafkaBus } from '../index.ts';

const [brokers, topic, group, name, session] = process.argv.slice(2) as [string, string, string, string, string];
const bus = createKafkaBus({
  brokers: brokers.split(','),
  clientId: 'orchestron-static-member-test',
  sessionTimeoutMs: Number(session),
  ...(name !== '-' ? { staticMemberName: name } : {}),
});
const seen = new Set<number>();
await bus.subscribe(
  {
    topics: [topic],
    group,
    onAssigned: (partitions) => process.stdout.write(`assigned ${partitions.length}\n`),
  },
  async (message) => {
    if (seen.has(message.partition)) return;
    seen.add(message.partition);
    process.stdout.write(`message ${message.partition}\n`);
  },
);
setInterval(() => undefined, 60_000);
