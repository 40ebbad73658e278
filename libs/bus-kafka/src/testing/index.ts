export { createInbox, describeMessageBusConformance, originalOf, sleep, waitFor } from './bus.conformance.ts';
export type { BusUnderTest, Inbox, MessageBusConformanceOptions } from './bus.conformance.ts';
export { ensureKafkaBroker, kafkaAnswers, useKafkaBroker } from './kafka-broker.ts';
export { acquireKafkaGroups, withKafkaGroups } from './kafka-groups-lock.ts';
