// The browser the console's tests drive: Debian's Chromium, through playwright-core (which brings no browser).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Where the browser is; ORCHESTRON_CHROMIUM points elsewhere (e.g. a Chrome on macOS). */
export const CHROMIUM = process.env.ORCHESTRON_CHROMIUM ?? '/usr/bin/chromium';

const HOW =
  'Install it (Debian/Ubuntu: sudo apt-get install -y chromium), or point ORCHESTRON_CHROMIUM at a Chromium or Chrome binary.';

function run(command: string, args: readonly string[]): boolean {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  return spawnSync(command, args, { stdio: 'inherit', env }).status === 0;
}

function has(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/** apt-get install chromium, as root or with password-less sudo; false where neither works. */
function aptInstallChromium(): boolean {
  if (!has('apt-get')) return false;
  const sudo = process.getuid?.() === 0 ? [] : has('sudo') ? ['sudo', '-n'] : null;
  if (sudo === null) return false;
  const apt = (args: readonly string[]): boolean => {
    const [command = 'apt-get', ...rest] = [...sudo, 'apt-get', ...args];
    return run(command, rest);
  };
  const install = ['install', '-y', '--no-install-recommends', 'chromium'];
  return apt(install) || (apt(['update']) && apt(install));
}

/** Makes sure the browser is there, installing Debian's chromium when it is missing; throws saying how otherwise. */
export function ensureChromium(): string {
  if (existsSync(CHROMIUM)) return CHROMIUM;
  if (process.env.ORCHESTRON_CHROMIUM)
    throw new Error(`ORCHESTRON_CHROMIUM is ${CHROMIUM}, and there is no such file. ${HOW}`);
  process.stdout.write(
    `servers: ${CHROMIUM} missing (the console's browser tests need it); apt-get install chromium\n`,
  );
  if (aptInstallChromium() && existsSync(CHROMIUM)) return CHROMIUM;
  throw new Error(
    `Chromium is not at ${CHROMIUM}, and apt-get could not install it (it needs root or password-less sudo, and Debian's package lists). The console's browser tests (test/e2e/console.e2e.spec.ts) need it. ${HOW}`,
  );
}
