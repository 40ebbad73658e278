import { createInMemoryBus, Topics } from '@orchestron/bus';
import { describeMessageBusConformance } from './testing/index.ts';

// The in-process bus against the same expectations as the Kafka one (the suite belongs in @orchestron/bus).
let counter = 0;
describeMessageBusConformance('in-memory bus', async () => ({ bus: createInMemoryBus(), deadLetterTopic: Topics.deadLetters }), {
  unique: (name) => `${name}-${++counter}`,
  quietMs: 20,
});
