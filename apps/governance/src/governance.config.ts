import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { integerSetting, kafkaSettings, SettingError } from '@orchestron/tiers';
import { DEFAULT_GOVERNANCE_GROUP, DEFAULT_STANDING_MS, MAX_STANDING_MS } from './start-governance.ts';
import type { GovernanceServiceOptions } from './start-governance.ts';

type Env = Readonly<Record<string, string | undefined>>;

/** The service's options from the environment; a bad value names its variable. */
export function governanceConfig(
  env: Env,
  repoRoot: string,
): GovernanceServiceOptions & { readonly busKind: 'kafka' | 'memory' } {
  const busKind = env.ORCHESTRON_BUS ?? 'kafka';
  if (busKind !== 'kafka' && busKind !== 'memory')
    throw new SettingError(`ORCHESTRON_BUS must be kafka or memory, got ${JSON.stringify(env.ORCHESTRON_BUS)}`);
  // The same settings, defaults and minimums as the orchestrator's and the workers' (libs/tiers).
  const kafka = kafkaSettings(env);
  const group = env.ORCHESTRON_GOVERNANCE_GROUP ?? DEFAULT_GOVERNANCE_GROUP;
  if (!group.trim()) throw new SettingError('ORCHESTRON_GOVERNANCE_GROUP must not be empty');
  const instance = env.ORCHESTRON_INSTANCE ?? `governance-${hostname()}-${process.pid}`;
  if (!instance.trim()) throw new SettingError('ORCHESTRON_INSTANCE must not be empty');
  const standingMs = integerSetting(env, 'ORCHESTRON_GOVERNANCE_STANDING_MS', DEFAULT_STANDING_MS, 0);
  if (standingMs > MAX_STANDING_MS)
    throw new SettingError(
      `ORCHESTRON_GOVERNANCE_STANDING_MS must be at most ${MAX_STANDING_MS} (a policy change must reach every step within a minute), got ${standingMs}`,
    );
  return {
    busKind,
    policiesDir: resolve(env.ORCHESTRON_POLICIES ?? resolve(repoRoot, 'examples/policies')),
    kafka,
    group,
    instance,
    standingMs,
  };
}
