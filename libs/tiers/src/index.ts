export { ALL_TOPICS, openBus, openStore, tierConfig } from './tiers.ts';
export type { BusKind, OpenBusOptions, StoreKind, TierConfig } from './tiers.ts';
export {
  eventBufferSetting,
  MAX_EVENT_BUFFER_MS,
  integerSetting,
  kafkaSettings,
  KAFKA_DEFAULTS,
  KAFKA_MINIMUMS,
  postgresSettings,
  POSTGRES_DEFAULTS,
  POSTGRES_MINIMUMS,
  SettingError,
} from './settings.ts';
export type { Env, KafkaSettings, PostgresSettings } from './settings.ts';
