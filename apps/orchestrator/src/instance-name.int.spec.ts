import { describe, expect, it } from '@jest/globals';
import { tierConfig } from '@orchestron/tiers';
import { awaitInstanceName, holdInstanceName, standbySetting, staticMemberSetting } from './instance-name.ts';

// Against the PostgreSQL of the development and CI machines.
const env = { ORCHESTRON_STORE: 'postgres', ORCHESTRON_BUS: 'kafka', ORCHESTRON_PG_SCHEMA: 'instance_name_test' };
const tiers = tierConfig(env);
const logger = { warn: () => undefined, error: () => undefined };

describe('an orchestrator instance name held for static membership', () => {
  it('is off unless asked for, and names what it needs when it is', () => {
    expect(staticMemberSetting(env, tiers)).toBeNull();
    expect(staticMemberSetting({ ...env, ORCHESTRON_KAFKA_STATIC_MEMBER: '0' }, tiers)).toBeNull();
    expect(
      staticMemberSetting({ ...env, ORCHESTRON_KAFKA_STATIC_MEMBER: '1', ORCHESTRON_INSTANCE: 'o-1' }, tiers),
    ).toBe('o-1');
    expect(() => staticMemberSetting({ ...env, ORCHESTRON_KAFKA_STATIC_MEMBER: 'yes' }, tiers)).toThrow(
      'ORCHESTRON_KAFKA_STATIC_MEMBER must be 1 or 0, got "yes"',
    );
    expect(() => staticMemberSetting({ ...env, ORCHESTRON_KAFKA_STATIC_MEMBER: '1' }, tiers)).toThrow(
      /needs ORCHESTRON_INSTANCE/,
    );
    const kurrent = tierConfig({
      ...env,
      ORCHESTRON_STORE: 'kurrentdb',
      ORCHESTRON_ESDB_URL: 'kurrentdb://127.0.0.1:2113?tls=false',
    });
    expect(() =>
      staticMemberSetting({ ...env, ORCHESTRON_KAFKA_STATIC_MEMBER: '1', ORCHESTRON_INSTANCE: 'o-1' }, kurrent),
    ).toThrow(/needs ORCHESTRON_BUS=kafka and ORCHESTRON_STORE=postgres/);
  });

  it('refuses a second live process under a held name, and frees the name when the first lets go', async () => {
    const name = `o-${process.pid}-${Date.now()}`;
    const first = await holdInstanceName(tiers, name, logger);
    try {
      await expect(holdInstanceName(tiers, name, logger)).rejects.toThrow(
        `another live process runs as instance "${name}" (ORCHESTRON_INSTANCE) with ORCHESTRON_KAFKA_STATIC_MEMBER=1; give each instance its own name`,
      );
      const other = await holdInstanceName(tiers, `${name}-b`, logger);
      await other.release();
    } finally {
      await first.release();
    }
    const again = await holdInstanceName(tiers, name, logger);
    await again.release();
  });
});

describe('a standby for an instance name', () => {
  it('is off unless asked for, and needs the name it stands by for', () => {
    expect(standbySetting({}, 'o-1')).toBe(false);
    expect(standbySetting({ ORCHESTRON_STANDBY: '0' }, 'o-1')).toBe(false);
    expect(standbySetting({ ORCHESTRON_STANDBY: '1' }, 'o-1')).toBe(true);
    expect(() => standbySetting({ ORCHESTRON_STANDBY: 'yes' }, 'o-1')).toThrow(
      'ORCHESTRON_STANDBY must be 1 or 0, got "yes"',
    );
    expect(() => standbySetting({ ORCHESTRON_STANDBY: '1' }, null)).toThrow(
      /ORCHESTRON_STANDBY=1 needs ORCHESTRON_KAFKA_STATIC_MEMBER=1 and ORCHESTRON_INSTANCE/,
    );
  });

  it('waits while a live process holds the name, and takes it once that process lets go', async () => {
    const name = `o-${process.pid}-${Date.now()}-standby`;
    const first = await holdInstanceName(tiers, name, logger);
    let taken = false;
    const standby = awaitInstanceName(tiers, name, logger, 10).then((held) => {
      taken = true;
      return held;
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(taken).toBe(false);
    await first.release(); // as a kill -9 would: the holder's connection ends
    const held = await standby;
    try {
      expect(held.name).toBe(name);
      await expect(holdInstanceName(tiers, name, logger)).rejects.toThrow(/another live process runs as instance/);
    } finally {
      await held.release();
    }
  });
});
