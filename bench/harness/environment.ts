// What the figures were measured on: machine, versions of everything under test, and the servers.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { restateBinary } from './drivers/restate.driver.ts';
import { serverVersion } from './drivers/pg-admin.ts';

export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

export interface Environment {
  readonly machine: {
    readonly cpus: number;
    readonly cpuModel: string;
    readonly memoryGiB: number;
    readonly kernel: string;
  };
  readonly versions: Record<string, string>;
}

function packageVersion(name: string): string {
  const file = join(ROOT, 'node_modules', name, 'package.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version : 'not installed';
}

function quiet(command: string, args: readonly string[]): string | null {
  try {
    return execFileSync(command, [...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      cwd: ROOT,
    }).trim();
  } catch {
    return null;
  }
}

function kafkaVersion(): string {
  const pom = join(ROOT, 'infra/kafka/pom.xml');
  const pinned = existsSync(pom)
    ? /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(readFileSync(pom, 'utf8'))?.[1]
    : undefined;
  return process.env.ORCHESTRON_KAFKA_VERSION ?? pinned ?? 'unknown';
}

export async function describeEnvironment(): Promise<Environment> {
  const orchestron = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  const commit = quiet('git', ['rev-parse', '--short', 'HEAD']) ?? 'unknown';
  return {
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
      kernel: release(),
    },
    versions: {
      node: process.version,
      orchestron: `${orchestron} (${commit})`,
      'restate-server': quiet(restateBinary(), ['--version'])?.replace(/^restate-server\s*/, '') ?? 'unknown',
      '@restatedev/restate-sdk': packageVersion('@restatedev/restate-sdk'),
      '@dbos-inc/dbos-sdk': packageVersion('@dbos-inc/dbos-sdk'),
      postgresql: await serverVersion().catch(() => 'unreachable'),
      kafka: kafkaVersion(),
      '@platformatic/kafka': packageVersion('@platformatic/kafka'),
      'better-sqlite3': packageVersion('better-sqlite3'),
      pg: packageVersion('pg'),
      'hdr-histogram-js': packageVersion('hdr-histogram-js'),
    },
  };
}
