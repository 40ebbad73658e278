export { createInbox, describeMessageBusConformance, originalOf, sleep, waitFor } from './bus.conformance.ts';
export type { BusUnderTest, Inbox, MessageBusConformanceOptions } from './bus.conformance.ts';
