export type { BusMessage, BusSubscription, DeliveredMessage, MessageBus, SubscribeOptions } from './bus.ts';
export { Topics } from './bus.ts';
export { createInMemoryBus } from './in-memory-bus.ts';
export type { StepCommandMessage, StepEventMessage } from './wire.ts';
export { parseStepEventMessage, WireFormatError } from './wire.ts';
