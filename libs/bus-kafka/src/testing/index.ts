export { ensureKafkaBroker, kafkaAnswers, useKafkaBroker } from './kafka-broker.ts';
export { acquireKafkaGroups, withKafkaGroups } from './kafka-groups-lock.ts';
