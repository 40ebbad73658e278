export { createSqliteEventStore } from './sqlite-event-store.ts';
export type { SqliteEventStoreOptions } from './sqlite-event-store.ts';
export { createPrivately } from './schema.ts';
