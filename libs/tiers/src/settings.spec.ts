import { describe, expect, it } from '@jest/globals';
import { eventBufferSetting, kafkaSettings, postgresSettings, SettingError } from './settings.ts';
import { tierConfig } from './tiers.ts';

describe('Kafka and PostgreSQL settings, read once for every service', () => {
  it('has one set of defaults', () => {
    expect(kafkaSettings({})).toEqual({ brokers: ['127.0.0.1:9092'], partitions: 3, sessionTimeoutMs: 30_000 });
    expect(postgresSettings({})).toEqual({
      url: 'postgres://postgres@127.0.0.1:5432/test',
      schema: 'orchestron',
      poolSize: 10,
    });
    expect(postgresSettings({}, { poolSize: 4 }).poolSize).toBe(4);
  });

  it('reads the variables, trimming the broker list', () => {
    expect(
      kafkaSettings({
        ORCHESTRON_KAFKA_BROKERS: 'k1:9092, k2:9092',
        ORCHESTRON_KAFKA_PARTITIONS: '6',
        ORCHESTRON_KAFKA_SESSION_TIMEOUT_MS: '6000',
      }),
    ).toEqual({ brokers: ['k1:9092', 'k2:9092'], partitions: 6, sessionTimeoutMs: 6000 });
  });

  it.each([
    [{ ORCHESTRON_KAFKA_PARTITIONS: '0' }, /ORCHESTRON_KAFKA_PARTITIONS must be an integer of at least 1/],
    [
      { ORCHESTRON_KAFKA_SESSION_TIMEOUT_MS: '999' },
      /ORCHESTRON_KAFKA_SESSION_TIMEOUT_MS must be an integer of at least 1000/,
    ],
    [{ ORCHESTRON_KAFKA_BROKERS: ' , ' }, /ORCHESTRON_KAFKA_BROKERS must name at least one/],
  ])('refuses %j, naming the variable', (env, message) => {
    expect(() => kafkaSettings(env)).toThrow(SettingError);
    expect(() => kafkaSettings(env)).toThrow(message);
  });

  it('holds one minimum pool size whatever the default', () => {
    expect(() => postgresSettings({ ORCHESTRON_PG_POOL_SIZE: '1' })).toThrow(
      /ORCHESTRON_PG_POOL_SIZE must be an integer of at least 2/,
    );
    expect(() => postgresSettings({ ORCHESTRON_PG_POOL_SIZE: '1' }, { poolSize: 4 })).toThrow(/at least 2/);
  });

  it('is what tierConfig reads', () => {
    const env = {
      ORCHESTRON_KAFKA_BROKERS: 'k:1',
      ORCHESTRON_PG_POOL_SIZE: '7',
      ORCHESTRON_KAFKA_SESSION_TIMEOUT_MS: '7000',
    };
    const config = tierConfig(env);
    expect([config.kafkaBrokers, config.kafkaPartitions, config.kafkaSessionTimeoutMs]).toEqual([['k:1'], 3, 7000]);
    expect([config.pgUrl, config.pgSchema, config.pgPoolSize]).toEqual([postgresSettings(env).url, 'orchestron', 7]);
  });
});

describe('ORCHESTRON_EVENT_BUFFER', () => {
  it('defaults to 24h and reads a duration', () => {
    expect(eventBufferSetting({})).toBe(86_400_000);
    expect(eventBufferSetting({ ORCHESTRON_EVENT_BUFFER: '' })).toBe(86_400_000);
    expect(eventBufferSetting({ ORCHESTRON_EVENT_BUFFER: '15m' })).toBe(900_000);
    expect(eventBufferSetting({ ORCHESTRON_EVENT_BUFFER: '1h30m' })).toBe(5_400_000);
  });

  it('refuses what is not a duration, 0 and more than 30 days, naming the variable', () => {
    for (const bad of ['24', 'soon', '0s', '31d', '-1h'])
      expect(() => eventBufferSetting({ ORCHESTRON_EVENT_BUFFER: bad })).toThrow(
        new SettingError(
          `ORCHESTRON_EVENT_BUFFER must be a duration such as 15m, 24h or 7d, longer than 0 and at most 30d; got ${JSON.stringify(bad)}`,
        ),
      );
  });
});
