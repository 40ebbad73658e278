import { createInMemoryBus } from './in-memory-bus.ts';
import { Topics } from './topics.ts';
import { describeMessageBusConformance } from './testing/index.ts';

// The in-process bus against the same expectations as the Kafka one (libs/bus-kafka/src/kafka-bus.int.spec.ts).
let counter = 0;
describeMessageBusConformance(
  'in-memory bus',
  async () => ({ bus: createInMemoryBus(), deadLetterTopic: Topics.deadLetters }),
  {
    unique: (name) => `${name}-${++counter}`,
    quietMs: 20,
  },
);
