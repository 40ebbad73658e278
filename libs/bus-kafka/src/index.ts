export { createKafkaBus } from './kafka-bus.ts';
export type { KafkaBus } from './kafka-bus.ts';
export type { KafkaBusLogger, KafkaBusOptions } from './options.ts';
export { KafkaBusError } from './errors.ts';
export { partitionForKey } from './codec.ts';
export type { KafkaBusErrorCode } from './errors.ts';
export type { DeadLetterRecord } from './codec.ts';
