import pg from 'pg';
import { SettingError } from '@orchestron/tiers';
import type { TierConfig } from '@orchestron/tiers';

interface Log {
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** The instance's name held for its life: released when the process ends, however it ends. */
export interface HeldName {
  readonly name: string;
  release(): Promise<void>;
}

/**
 * `ORCHESTRON_KAFKA_STATIC_MEMBER=1`: this instance joins its consumer group under its own name (Kafka static
 * membership), so a replacement started under the same name after a kill -9 takes the partitions back at once instead
 * of after the session timeout. The name must be set (a default `orchestrator-<pid>` is never reused) and must be
 * this process's alone: two live members under one name fence each other in a loop, each believing it owns every
 * partition. The name is therefore held as a PostgreSQL advisory lock on a connection of its own, which the database
 * frees the moment the process dies; a second process under a held name refuses to start.
 */
export function staticMemberSetting(
  env: Readonly<Record<string, string | undefined>>,
  tiers: TierConfig,
): string | null {
  const raw = env.ORCHESTRON_KAFKA_STATIC_MEMBER;
  if (raw === undefined || raw === '' || raw === '0') return null;
  if (raw !== '1') throw new SettingError(`ORCHESTRON_KAFKA_STATIC_MEMBER must be 1 or 0, got ${JSON.stringify(raw)}`);
  const name = env.ORCHESTRON_INSTANCE;
  if (name === undefined || name === '')
    throw new SettingError(
      'ORCHESTRON_KAFKA_STATIC_MEMBER=1 needs ORCHESTRON_INSTANCE: the name a replacement of this instance starts under',
    );
  if (tiers.bus !== 'kafka' || tiers.store !== 'postgres')
    throw new SettingError(
      'ORCHESTRON_KAFKA_STATIC_MEMBER=1 needs ORCHESTRON_BUS=kafka and ORCHESTRON_STORE=postgres (the name is held as a PostgreSQL lock)',
    );
  return name;
}

/**
 * `ORCHESTRON_STANDBY=1`: a warm standby for the instance of that name. It loads its code and opens the bus, then
 * waits for the name; when the process holding it dies (or stops), it takes the name and the instance's partitions
 * (static membership), with the start-up already behind it. Needs the name, as static membership does.
 */
export function standbySetting(
  env: Readonly<Record<string, string | undefined>>,
  staticMember: string | null,
): boolean {
  const raw = env.ORCHESTRON_STANDBY;
  if (raw === undefined || raw === '' || raw === '0') return false;
  if (raw !== '1') throw new SettingError(`ORCHESTRON_STANDBY must be 1 or 0, got ${JSON.stringify(raw)}`);
  if (staticMember === null)
    throw new SettingError(
      'ORCHESTRON_STANDBY=1 needs ORCHESTRON_KAFKA_STATIC_MEMBER=1 and ORCHESTRON_INSTANCE: the instance it stands by for',
    );
  return true;
}

/** Takes the name, or fails naming it when a live process holds it. */
export async function holdInstanceName(tiers: TierConfig, name: string, logger: Log): Promise<HeldName> {
  const claim = await nameClaim(tiers, name, logger);
  if (await claim.tryTake()) return claim.held;
  await claim.held.release();
  throw new SettingError(
    `another live process runs as instance ${JSON.stringify(name)} (ORCHESTRON_INSTANCE) with ORCHESTRON_KAFKA_STATIC_MEMBER=1; give each instance its own name`,
  );
}

/**
 * Waits until no live process holds the name, then takes it: a standby's wait for the instance it replaces. The
 * database frees the name the moment its holder's connection drops, so the wait ends within `pollMs` of a kill -9.
 */
export async function awaitInstanceName(
  tiers: TierConfig,
  name: string,
  logger: Log,
  pollMs = STANDBY_POLL_MS,
): Promise<HeldName> {
  const claim = await nameClaim(tiers, name, logger);
  try {
    while (!(await claim.tryTake())) await new Promise((resolve) => setTimeout(resolve, pollMs));
  } catch (error) {
    await claim.held.release();
    throw error;
  }
  return claim.held;
}

/** How often a standby asks for the name. */
export const STANDBY_POLL_MS = 50;

/** A connection of its own that may take the name's advisory lock, and holds it until released or dropped. */
async function nameClaim(
  tiers: TierConfig,
  name: string,
  logger: Log,
): Promise<{ tryTake: () => Promise<boolean>; held: HeldName }> {
  const client = new pg.Client({ connectionString: tiers.pgUrl, connectionTimeoutMillis: 10_000 });
  let holding = false;
  // Before the name is taken (a standby waiting for it), a lost connection loses nothing but the wait.
  const lost = (error: Error): void =>
    holding
      ? logger.error('the connection holding this instance name failed: another process could now start under it', {
          instance: name,
          error: error.message,
        })
      : logger.error('the connection waiting for this instance name failed: this standby cannot take over', {
          instance: name,
          error: error.message,
        });
  client.on('error', lost);
  await client.connect();
  const key = `orchestron.instance:${tiers.pgSchema}:${name}`;
  return {
    async tryTake() {
      const { rows } = await client.query<{ held: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS held', [
        key,
      ]);
      holding = rows[0]?.held === true;
      return holding;
    },
    held: {
      name,
      async release() {
        client.off('error', lost);
        await client.end().catch(() => undefined);
      },
    },
  };
}
