import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { EXAMPLE_WORKER_NAMES, isExampleWorkerName } from '@orchestron/example-workers';
import { integerSetting, kafkaSettings, postgresSettings, SettingError } from '@orchestron/tiers';
import type { Env } from '@orchestron/tiers';
import { DEFAULT_REPORT_STARTED_AFTER_MS } from '@orchestron/worker-sdk';

export const HELP = `orchestron workers — the example workers as a service of their own, on Kafka

Usage: node apps/workers/src/main.ts --worker <name>[,<name>…] [--instance <id>] [--help]

Options:
  --worker, -w    which workers to run, comma-separated or repeated, or "all"
                  (${EXAMPLE_WORKER_NAMES.join(', ')})
  --instance, -i  this process's name among the instances of each worker (default <hostname>-<pid>);
                  kept with every claim and execution in the ledger
  --help, -h      this text

Environment:
  ORCHESTRON_KAFKA_BROKERS     comma-separated host:port (default 127.0.0.1:9092)
  ORCHESTRON_KAFKA_PARTITIONS  partitions of the topics created here (default 3)
  ORCHESTRON_KAFKA_SESSION_TIMEOUT_MS  how soon a dead instance loses its partitions (default 30000)
  ORCHESTRON_PG_URL            PostgreSQL of the idempotency ledger (default postgres://postgres@127.0.0.1:5432/test)
  ORCHESTRON_PG_SCHEMA         its schema, created if missing (default orchestron)
  ORCHESTRON_PG_POOL_SIZE      connections to it this process may hold (default 4, at least 2)
  ORCHESTRON_WORK_MS           work time of each example step in ms (default 50)
  ORCHESTRON_SHUTDOWN_GRACE_MS how long SIGTERM lets running steps finish before aborting them (default 10000)
  ORCHESTRON_REPORT_STARTED_AFTER_MS  report step.started only for attempts still running this long (default 100;
                               a quicker attempt is told by its outcome alone); 0: always, at once
  OTEL_EXPORTER_OTLP_ENDPOINT  export trace spans over OTLP/HTTP (e.g. http://127.0.0.1:4318); unset: none

Instances of one worker name share its consumer group (orchestron-worker-<name>) and the ledger, so
each attempt runs once however many run. Logs are JSON lines on stderr; one ready line goes to stdout.
`;

export interface WorkersConfig {
  readonly workers: readonly string[];
  readonly instance: string;
  readonly kafkaBrokers: readonly string[];
  readonly kafkaPartitions: number;
  readonly kafkaSessionTimeoutMs: number;
  readonly pgUrl: string;
  readonly pgSchema: string;
  readonly pgPoolSize: number;
  readonly workMs: number;
  readonly shutdownGraceMs: number;
  readonly reportStartedAfterMs: number;
}

/** A command line or environment that cannot work; the message names the option or variable. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Reads the command line and the environment; throws ConfigError naming what is wrong. `--help` needs nothing else to be right. */
export function readConfig(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): { readonly help: true } | ({ readonly help: false } & WorkersConfig) {
  let values: { worker?: string[]; instance?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        worker: { type: 'string', short: 'w', multiple: true },
        instance: { type: 'string', short: 'i' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new ConfigError(error instanceof Error ? error.message : String(error));
  }
  if (values.help) return { help: true };
  const instance = values.instance ?? `${hostname()}-${process.pid}`;
  if (instance.trim() === '') throw new ConfigError('--instance must not be empty');
  return { help: false, workers: workerNames(values.worker ?? []), instance, ...settings(env) };
}

/** Kafka and PostgreSQL through libs/tiers, as every service reads them; the ledger needs fewer connections than an event store. */
function settings(env: Env): Omit<WorkersConfig, 'workers' | 'instance'> {
  try {
    const kafka = kafkaSettings(env);
    const pg = postgresSettings(env, { poolSize: LEDGER_POOL_SIZE });
    return {
      kafkaBrokers: kafka.brokers,
      kafkaPartitions: kafka.partitions,
      kafkaSessionTimeoutMs: kafka.sessionTimeoutMs,
      pgUrl: pg.url,
      pgSchema: pg.schema,
      pgPoolSize: pg.poolSize,
      workMs: integerSetting(env, 'ORCHESTRON_WORK_MS', 50, 0),
      shutdownGraceMs: integerSetting(env, 'ORCHESTRON_SHUTDOWN_GRACE_MS', 10_000, 0),
      reportStartedAfterMs: integerSetting(
        env,
        'ORCHESTRON_REPORT_STARTED_AFTER_MS',
        DEFAULT_REPORT_STARTED_AFTER_MS,
        0,
      ),
    };
  } catch (error) {
    if (error instanceof SettingError) throw new ConfigError(error.message);
    throw error;
  }
}

const LEDGER_POOL_SIZE = 4;

function workerNames(given: readonly string[]): string[] {
  const names = given
    .flatMap((value) => value.split(','))
    .map((name) => name.trim())
    .filter(Boolean);
  if (names.length === 0)
    throw new ConfigError(`--worker is required: one or more of ${EXAMPLE_WORKER_NAMES.join(', ')}, or all`);
  if (names.includes('all')) return [...EXAMPLE_WORKER_NAMES];
  const unknown = names.filter((name) => !isExampleWorkerName(name));
  if (unknown.length > 0)
    throw new ConfigError(
      `--worker: unknown worker ${unknown.map((n) => JSON.stringify(n)).join(', ')}; known: ${EXAMPLE_WORKER_NAMES.join(', ')}`,
    );
  return [...new Set(names)];
}
