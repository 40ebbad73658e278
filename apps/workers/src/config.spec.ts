import { describe, expect, it } from '@jest/globals';
import { kafkaSettings, postgresSettings } from '@orchestron/tiers';
import { ConfigError } from './config.ts';
import { readConfig } from './index.ts';

describe('readConfig', () => {
  it('reads workers (comma-separated or repeated), the instance and the environment', () => {
    const config = readConfig(['--worker', 'payments,records', '-w', 'mail', '--instance', 'i-7'], {
      ORCHESTRON_KAFKA_BROKERS: 'k1:9092, k2:9092',
      ORCHESTRON_KAFKA_PARTITIONS: '6',
      ORCHESTRON_PG_URL: 'postgres://db/x',
      ORCHESTRON_PG_SCHEMA: 'ledger',
      ORCHESTRON_WORK_MS: '0',
      ORCHESTRON_PG_POOL_SIZE: '3',
    });
    expect(config).toEqual({
      help: false,
      workers: ['payments', 'records', 'mail'],
      instance: 'i-7',
      kafkaBrokers: ['k1:9092', 'k2:9092'],
      kafkaPartitions: 6,
      kafkaSessionTimeoutMs: 30_000,
      pgUrl: 'postgres://db/x',
      pgSchema: 'ledger',
      pgPoolSize: 3,
      workMs: 0,
      shutdownGraceMs: 10_000,
      reportStartedAfterMs: 100,
    });
  });

  it('has the documented defaults, and "all" means every example worker', () => {
    const config = readConfig(['--worker', 'all'], {});
    expect(config).toMatchObject({
      help: false,
      workers: ['identity', 'iam', 'mail', 'workspace', 'chat', 'payments', 'records', 'llm'],
      kafkaBrokers: ['127.0.0.1:9092'],
      kafkaPartitions: 3,
      pgUrl: 'postgres://postgres@127.0.0.1:5432/test',
      pgSchema: 'orchestron',
      pgPoolSize: 4,
      workMs: 50,
    });
    expect(config.help === false && config.instance).toMatch(/-\d+$/);
  });

  it('answers --help whatever else is wrong', () => {
    expect(readConfig(['--help'], { ORCHESTRON_WORK_MS: 'soon' })).toEqual({ help: true });
  });

  it('names the option or variable that is wrong', () => {
    expect(() => readConfig([], {})).toThrow(/--worker is required/);
    expect(() => readConfig(['--worker', 'billing'], {})).toThrow(
      /--worker: unknown worker "billing"; known: identity/,
    );
    expect(() => readConfig(['--worker', 'mail', '--colour'], {})).toThrow(/--colour/);
    expect(() => readConfig(['--worker', 'mail'], { ORCHESTRON_WORK_MS: '-1' })).toThrow(
      /ORCHESTRON_WORK_MS must be an integer of at least 0, got "-1"/,
    );
    expect(() => readConfig(['--worker', 'mail'], { ORCHESTRON_KAFKA_PARTITIONS: '0' })).toThrow(
      /ORCHESTRON_KAFKA_PARTITIONS/,
    );
  });

  it("reads Kafka and PostgreSQL as every other service does (libs/tiers), keeping the ledger's smaller pool", () => {
    const env = {
      ORCHESTRON_KAFKA_BROKERS: 'k:1',
      ORCHESTRON_KAFKA_SESSION_TIMEOUT_MS: '6000',
      ORCHESTRON_PG_SCHEMA: 's',
    };
    const config = readConfig(['--worker', 'mail'], env);
    if (config.help) throw new Error('unexpected --help');
    expect([config.kafkaBrokers, config.kafkaPartitions, config.kafkaSessionTimeoutMs]).toEqual(
      Object.values(kafkaSettings(env)),
    );
    expect([config.pgUrl, config.pgSchema, config.pgPoolSize]).toEqual(
      Object.values(postgresSettings(env, { poolSize: 4 })),
    );
    expect(() => readConfig(['--worker', 'mail'], { ORCHESTRON_PG_POOL_SIZE: '1' })).toThrow(ConfigError);
    expect(() => readConfig(['--worker', 'mail'], { ORCHESTRON_KAFKA_SESSION_TIMEOUT_MS: '500' })).toThrow(
      /at least 1000/,
    );
  });
});
