// CPU-seconds and peak RSS per process, from /proc/<pid>/stat and /proc/<pid>/status (Linux only).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import type { ProcessRef } from './types.ts';

export interface ProcessUsage {
  readonly role: string;
  readonly name: string;
  readonly shared: boolean;
  readonly cpuSeconds: number;
  /** The largest sum of VmRSS over the process's pids at one sample; null for shared servers. */
  readonly peakRssMb: number | null;
}

const TICKS_PER_SECOND = clockTicks();

function clockTicks(): number {
  try {
    const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isInteger(ticks) && ticks > 0 ? ticks : 100;
  } catch {
    return 100;
  }
}

/** utime + stime of a process in seconds, or null when it is gone. */
export function cpuSecondsOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses: the fields start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return null;
  }
}

/** VmRSS in MiB, or null when the process is gone. */
export function rssMbOf(pid: number): number | null {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** Pids whose command line matches, read from /proc (e.g. every PostgreSQL backend, the Kafka broker). */
export function pidsMatching(test: (comm: string, cmdline: () => string) => boolean): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const comm = readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
      const cmdline = (): string => readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (test(comm, cmdline)) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

export const postgresServerPids = (): number[] => pidsMatching((comm) => comm === 'postgres');
export const kafkaBrokerPids = (): number[] =>
  pidsMatching((comm, cmdline) => comm === 'java' && cmdline().includes('kafka.Kafka '));

interface Tracked {
  readonly role: string;
  readonly name: string;
  readonly shared: boolean;
  /** CPU seconds per pid at the last sample. */
  readonly last: Map<number, number>;
  cpuSeconds: number;
  peakRssMb: number;
}

/**
 * Samples the processes `refs()` names (asked at each sample, so replacements are followed). CPU is summed over
 * the interval from `start` to `stop`: a pid first seen after the start counts from 0, as it was born meanwhile.
 */
export class ProcessSampler {
  private readonly refs: () => readonly ProcessRef[];
  private readonly intervalMs: number;
  private readonly tracked = new Map<string, Tracked>();
  private timer: NodeJS.Timeout | undefined;
  private started = false;

  constructor(refs: () => readonly ProcessRef[], intervalMs = 250) {
    this.refs = refs;
    this.intervalMs = intervalMs;
  }

  start(): void {
    this.sample(true);
    this.started = true;
    this.timer = setInterval(() => this.sample(false), this.intervalMs);
    this.timer.unref();
  }

  stop(): ProcessUsage[] {
    if (!this.started) throw new Error('ProcessSampler.stop before start');
    clearInterval(this.timer);
    this.sample(false);
    return [...this.tracked.values()].map((t) => ({
      role: t.role,
      name: t.name,
      shared: t.shared,
      cpuSeconds: t.cpuSeconds,
      peakRssMb: t.shared ? null : t.peakRssMb,
    }));
  }

  private sample(baseline: boolean): void {
    for (const ref of this.refs()) {
      const key = `${ref.role}\0${ref.name}`;
      let t = this.tracked.get(key);
      if (!t) {
        t = {
          role: ref.role,
          name: ref.name,
          shared: ref.shared === true,
          last: new Map(),
          cpuSeconds: 0,
          peakRssMb: 0,
        };
        this.tracked.set(key, t);
      }
      let rss = 0;
      for (const pid of ref.pids()) {
        const cpu = cpuSecondsOf(pid);
        if (cpu === null) continue;
        if (!baseline) t.cpuSeconds += cpu - (t.last.get(pid) ?? 0);
        t.last.set(pid, cpu);
        if (!t.shared) rss += rssMbOf(pid) ?? 0;
      }
      t.peakRssMb = Math.max(t.peakRssMb, rss);
    }
  }
}
