export { createPostgresEventStore } from './postgres-event-store.ts';
export type { PostgresEventStoreOptions } from './postgres-event-store.ts';
