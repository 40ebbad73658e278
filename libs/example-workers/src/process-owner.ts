import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

/**
 * Who holds a claim, precisely enough to tell later whether that process still lives: the host, the machine's
 * boot, the pid and the pid's start time. A pid alone is reused; with its start time (Linux's /proc) it names one
 * process, and a new boot id says every process of the last boot is gone.
 */
export interface ProcessOwner {
  readonly host: string;
  /** The kernel's boot id, or '' where there is none to read. */
  readonly boot: string;
  readonly pid: number;
  /** The process's start time in clock ticks since boot (field 22 of /proc/<pid>/stat), or '' where unknown. */
  readonly start: string;
}

const readOr = (path: string, fallback: string): string => {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return fallback;
  }
};

/**
 * Fields 3 (the state) and 22 (the start time) of /proc/<pid>/stat, or undefined without one. The command name
 * (field 2) may hold spaces and parentheses, so count after its closing parenthesis.
 */
function procStat(pid: number): { readonly state: string; readonly start: string } | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0] ?? '', start: fields[19] ?? '' };
}

/** This process, as a claim records it. */
export function currentOwner(): ProcessOwner {
  return {
    host: hostname(),
    boot: readOr('/proc/sys/kernel/random/boot_id', ''),
    pid: process.pid,
    start: procStat(process.pid)?.start ?? '',
  };
}

/**
 * Whether `owner` is certainly dead, as seen from `self`. Anything this process cannot check counts as alive, so
 * a claim is never taken from a process that may still run its handler:
 * - another host (a file shared over the network, or a container with its own pid namespace and hostname);
 * - a process of this boot that answers to its pid, where the start time cannot be compared (no /proc, or a /proc
 *   mounted with `hidepid`: then `kill(pid, 0)` decides, and only ESRCH, no such process, means gone).
 */
export function ownerIsGone(owner: ProcessOwner, self: ProcessOwner = currentOwner()): boolean {
  if (owner.host !== self.host) return false;
  if (owner.boot !== '' && self.boot !== '' && owner.boot !== self.boot) return true;
  if (owner.pid === self.pid) return owner.start !== '' && self.start !== '' && owner.start !== self.start;
  const stat = procStat(owner.pid);
  // A zombie (Z) or dead (X) process has finished, though nobody has reaped it yet.
  if (stat !== undefined)
    return stat.state === 'Z' || stat.state === 'X' || (owner.start !== '' && stat.start !== owner.start);
  // No /proc, or no entry in it: that may be `hidepid` hiding another user's process, which a signal still finds.
  try {
    process.kill(owner.pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** The owner as stored in a claim's row; null for a row written before owners were kept. */
export function parseOwner(text: string | null): ProcessOwner | null {
  if (text === null) return null;
  try {
    const value = JSON.parse(text) as Partial<ProcessOwner>;
    if (typeof value.host !== 'string' || typeof value.pid !== 'number') return null;
    return { host: value.host, boot: value.boot ?? '', pid: value.pid, start: value.start ?? '' };
  } catch {
    return null;
  }
}
