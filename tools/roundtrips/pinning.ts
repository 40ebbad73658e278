/**
 * CPU pinning for the probe's scale-out experiments (issue 10): the orchestrators on some cores, everything else
 * (the API, the workers, governance, PostgreSQL, the Kafka broker and the probe itself) on others, with `taskset`.
 * Then each core's busy share over the measured part says which side is the bound. PostgreSQL and the broker are
 * shared servers: `restore` gives them every core back, and the probe calls it whatever happens.
 */
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { readFileSync } from 'node:fs';
import { kafkaBrokerPids, postgresServerPids } from '../../bench/harness/proc-sampler.ts';
import { alive } from '../stack/host.ts';

export interface PinPlan {
  /** The cores the orchestrators take in turn: instance i gets orchestrators[i % length]. */
  readonly orchestrators: readonly number[];
  /** The cores everything else shares. */
  readonly rest: readonly number[];
}

/** `--pin-orchestrators 0,1 --pin-rest 1`: each a comma-separated list of core numbers of this machine. */
export function pinPlan(orchestrators: string | undefined, rest: string | undefined): PinPlan | undefined {
  if (orchestrators === undefined && rest === undefined) return undefined;
  const all = allCores();
  return { orchestrators: cores('--pin-orchestrators', orchestrators, all), rest: cores('--pin-rest', rest, all) };
}

function cores(flag: string, list: string | undefined, all: readonly number[]): number[] {
  if (list === undefined) return [...all];
  const parsed = list.split(',').map((s) => Number(s.trim()));
  const bad = parsed.find((n) => !Number.isInteger(n) || !all.includes(n));
  if (bad !== undefined || parsed.length === 0)
    throw new Error(`${flag} ${list}: give core numbers from 0 to ${all.length - 1}, comma-separated`);
  return parsed;
}

interface Pinnable {
  readonly pid: number;
  readonly role: string;
}

/** Pins every thread of each process; PostgreSQL's new backends inherit the postmaster's mask. */
export function applyPins(plan: PinPlan, processes: readonly Pinnable[]): string[] {
  const lines: string[] = [];
  let orchestrator = 0;
  for (const p of processes) {
    const core =
      p.role === 'orchestrator'
        ? [plan.orchestrators[orchestrator++ % plan.orchestrators.length] as number]
        : plan.rest;
    pin(p.pid, core);
    lines.push(`${p.role} ${p.pid} on ${core.join(',')}`);
  }
  for (const pid of [...postgresServerPids(), ...kafkaBrokerPids(), process.pid]) pin(pid, plan.rest);
  lines.push(`postgres, the kafka broker and the probe on ${plan.rest.join(',')}`);
  return lines;
}

/** Gives the shared servers every core back. */
export function restore(): void {
  for (const pid of [...postgresServerPids(), ...kafkaBrokerPids()]) pin(pid, allCores(), true);
}

/**
 * Every core of the machine. Not availableParallelism(): that counts the cores this process may use, and the probe
 * pins itself with the rest, so after pinning it would hand the shared servers back only the rest's cores.
 */
const allCores = (): number[] => Array.from({ length: cpus().length }, (_, i) => i);

function pin(pid: number, cpus: readonly number[], quiet = false): void {
  try {
    execFileSync('taskset', ['-a', '-c', '-p', cpus.join(','), String(pid)], { stdio: 'ignore' });
  } catch (error) {
    // A backend that ended meanwhile cannot be pinned, and needs not be.
    if (!quiet && alive(pid)) throw error;
  }
}

/** Each core's busy and total jiffies, from /proc/stat. */
export function coreTimes(): { busy: number; total: number }[] {
  return readFileSync('/proc/stat', 'utf8')
    .split('\n')
    .filter((line) => /^cpu\d+ /.test(line))
    .map((line) => {
      const [user, nice, system, idle, iowait, irq, softirq, steal] = line.split(/\s+/).slice(1).map(Number);
      const busy = (user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0);
      return { busy, total: busy + (idle ?? 0) + (iowait ?? 0) };
    });
}

/** "core 0 98% busy, core 1 61% busy" over the span between two `coreTimes`. */
export function coreBusy(before: ReturnType<typeof coreTimes>, after: ReturnType<typeof coreTimes>): string {
  return after
    .map((a, i) => {
      const b = before[i] ?? { busy: 0, total: 0 };
      const share = a.total === b.total ? 0 : (100 * (a.busy - b.busy)) / (a.total - b.total);
      return `core ${i} ${share.toFixed(0)}% busy`;
    })
    .join(', ');
}
