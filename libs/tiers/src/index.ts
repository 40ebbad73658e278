export { ALL_TOPICS, openBus, openStore, tierConfig } from './tiers.ts';
export type { BusKind, OpenBusOptions, StoreKind, TierConfig } from './tiers.ts';
