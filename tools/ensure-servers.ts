// Before the test suites: PostgreSQL must answer, a Kafka broker must be running (started here if not), and the
// tools of the bash example worker (kcat, jq) must be installed (with apt-get here if not), and so must Chromium for the
// console's browser tests (test/support/chromium.ts).
// A server that cannot be reached or started fails the run with its name and how to start it; nothing is skipped.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import pg from 'pg';
import { ensureChromium } from '../test/support/chromium.ts';

const PG_URL = process.env.ORCHESTRON_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

async function postgresAnswers(): Promise<string | null> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    const { rows } = await client.query<{ version: string }>("SELECT current_setting('server_version') AS version");
    return rows[0]?.version ?? 'unknown';
  } catch {
    return null;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function ensurePostgres(): Promise<void> {
  let version = await postgresAnswers();
  if (version === null && existsSync('/etc/postgresql')) {
    const cluster = readdirSync('/etc/postgresql')[0];
    if (cluster) {
      process.stdout.write(`servers: PostgreSQL does not answer at ${PG_URL}; starting cluster ${cluster}/main\n`);
      spawnSync('pg_ctlcluster', ['--skip-systemctl-redirect', cluster, 'main', 'start'], { stdio: 'inherit' });
      version = await postgresAnswers();
    }
  }
  if (version === null) {
    throw new Error(
      `PostgreSQL is not reachable at ${PG_URL}. Start it (on these machines: pg_ctlcluster --skip-systemctl-redirect 15 main start; elsewhere: docker compose up -d postgres), or set ORCHESTRON_PG_URL.`,
    );
  }
  process.stdout.write(`servers: PostgreSQL ${version} answers at ${PG_URL}\n`);
}

function ensureKafka(): void {
  const result = spawnSync('bash', ['infra/kafka/kafka.sh', 'start'], { stdio: 'inherit' });
  if (result.status !== 0) {
    throw new Error(
      'Kafka could not be started on 127.0.0.1:9092. Run `npm run kafka:start` to see why (it needs Java 17 and Maven with Maven Central), or `docker compose up -d kafka`.',
    );
  }
}

/** The commands examples/workers/kcat-worker.sh needs, and the Debian package of each. */
const TOOLS: readonly { command: string; apt: string }[] = [
  { command: 'kcat', apt: 'kcat' },
  { command: 'jq', apt: 'jq' },
];

function installed(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

function aptInstall(packages: readonly string[]): boolean {
  const root = process.getuid?.() === 0;
  if (!installed('apt-get')) return false;
  const sudo = root ? [] : installed('sudo') ? ['sudo', '-n'] : null;
  if (sudo === null) return false;
  const run = (args: readonly string[]): boolean => {
    const [command = 'apt-get', ...rest] = [...sudo, ...args];
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    return spawnSync(command, rest, { stdio: 'inherit', env }).status === 0;
  };
  // The package lists may be missing or stale on a fresh machine: update once, then try again.
  const install = ['apt-get', 'install', '-y', '--no-install-recommends', ...packages];
  return run(install) || (run(['apt-get', 'update']) && run(install));
}

function ensureTools(): void {
  const missing = TOOLS.filter((t) => !installed(t.command));
  if (missing.length === 0) return;
  const packages = missing.map((t) => t.apt);
  process.stdout.write(
    `servers: ${missing.map((t) => t.command).join(' and ')} missing; apt-get install ${packages.join(' ')}\n`,
  );
  if (aptInstall(packages) && missing.every((t) => installed(t.command))) return;
  throw new Error(
    `${missing.map((t) => t.command).join(' and ')} ${missing.length === 1 ? 'is' : 'are'} not installed, and apt-get could not install ${missing.length === 1 ? 'it' : 'them'}: the bash example worker (examples/workers/kcat-worker.sh) and its test need ${missing.length === 1 ? 'it' : 'them'}. Install ${packages.join(' and ')} (Debian/Ubuntu: sudo apt-get install -y ${packages.join(' ')}; macOS: brew install ${packages.join(' ')}).`,
  );
}

try {
  await ensurePostgres();
  ensureKafka();
  ensureTools();
  process.stdout.write(`servers: Chromium at ${ensureChromium()} (for the console's browser tests)\n`);
} catch (error) {
  process.stderr.write(`servers: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
