export { createKurrentDbEventStore } from './kurrentdb-event-store.ts';
export type { KurrentDbEventStoreOptions } from './kurrentdb-event-store.ts';
