import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { DEFAULT_GOVERNANCE_GROUP } from './start-governance.ts';
import type { GovernanceServiceOptions } from './start-governance.ts';

type Env = Readonly<Record<string, string | undefined>>;

/** The service's options from the environment; a bad value names its variable. */
export function governanceConfig(env: Env, repoRoot: string): GovernanceServiceOptions & { readonly busKind: 'kafka' | 'memory' } {
  const busKind = env.ORCHESTRON_BUS ?? 'kafka';
  if (busKind !== 'kafka' && busKind !== 'memory') throw new Error(`ORCHESTRON_BUS must be kafka or memory, got ${JSON.stringify(env.ORCHESTRON_BUS)}`);
  const brokers = (env.ORCHESTRON_KAFKA_BROKERS ?? '127.0.0.1:9092').split(',').map((b) => b.trim()).filter(Boolean);
  if (brokers.length === 0) throw new Error('ORCHESTRON_KAFKA_BROKERS must name at least one host:port');
  const partitions = positiveInteger(env, 'ORCHESTRON_KAFKA_PARTITIONS', 3);
  const sessionTimeoutMs = positiveInteger(env, 'ORCHESTRON_KAFKA_SESSION_TIMEOUT_MS', 30_000);
  const group = env.ORCHESTRON_GOVERNANCE_GROUP ?? DEFAULT_GOVERNANCE_GROUP;
  if (!group.trim()) throw new Error('ORCHESTRON_GOVERNANCE_GROUP must not be empty');
  const instance = env.ORCHESTRON_INSTANCE ?? `governance-${hostname()}-${process.pid}`;
  if (!instance.trim()) throw new Error('ORCHESTRON_INSTANCE must not be empty');
  return {
    busKind,
    policiesDir: resolve(env.ORCHESTRON_POLICIES ?? resolve(repoRoot, 'examples/policies')),
    kafka: { brokers, partitions, sessionTimeoutMs },
    group,
    instance,
  };
}

function positiveInteger(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return value;
}
