/** Tier selection is shared by every service; it lives in @orchestron/tiers. */
export { openBus, openStore, tierConfig } from '@orchestron/tiers';
export type { BusKind, StoreKind, TierConfig } from '@orchestron/tiers';
