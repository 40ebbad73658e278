import { describe, expect, it } from '@jest/globals';
import { kafkaSettings } from '@orchestron/tiers';
import { governanceConfig } from './governance.config.ts';

describe('governanceConfig', () => {
  it('reads Kafka as every other service does (libs/tiers): the same defaults and minimums', () => {
    expect(governanceConfig({}, '/repo').kafka).toEqual(kafkaSettings({}));
    const env = {
      ORCHESTRON_KAFKA_BROKERS: 'a:1,b:2',
      ORCHESTRON_KAFKA_PARTITIONS: '6',
      ORCHESTRON_KAFKA_SESSION_TIMEOUT_MS: '6000',
    };
    expect(governanceConfig(env, '/repo').kafka).toEqual(kafkaSettings(env));
    expect(() => governanceConfig({ ORCHESTRON_KAFKA_SESSION_TIMEOUT_MS: '500' }, '/repo')).toThrow(
      /ORCHESTRON_KAFKA_SESSION_TIMEOUT_MS must be an integer of at least 1000/,
    );
  });

  it('reads how long a standing ruling holds (ADR 40): 5 s by default, 0 turns them off, at most a minute', () => {
    expect(governanceConfig({}, '/repo').standingMs).toBe(5_000);
    expect(governanceConfig({ ORCHESTRON_GOVERNANCE_STANDING_MS: '0' }, '/repo').standingMs).toBe(0);
    expect(() => governanceConfig({ ORCHESTRON_GOVERNANCE_STANDING_MS: '60001' }, '/repo')).toThrow(
      /ORCHESTRON_GOVERNANCE_STANDING_MS must be at most 60000/,
    );
    expect(() => governanceConfig({ ORCHESTRON_GOVERNANCE_STANDING_MS: 'soon' }, '/repo')).toThrow(
      /ORCHESTRON_GOVERNANCE_STANDING_MS must be an integer of at least 0, got "soon"/,
    );
  });

  it('defaults to the Kafka bus, and refuses a bus it does not know', () => {
    expect(governanceConfig({}, '/repo').busKind).toBe('kafka');
    expect(() => governanceConfig({ ORCHESTRON_BUS: 'carrier-pigeon' }, '/repo')).toThrow(/ORCHESTRON_BUS/);
  });
});
