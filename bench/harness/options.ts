// The command line of `npm run bench`.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ALL_SYSTEMS, WORKLOADS } from './types.ts';
import type { SystemName, WorkloadName } from './types.ts';

export interface BenchOptions {
  readonly quick: boolean;
  readonly systems: readonly SystemName[];
  readonly workloads: readonly WorkloadName[];
  readonly reps: number;
  /** Where the JSON, latest.md and charts/ go. */
  readonly out: string;
  /** Scratch space for data directories and logs (each run gets its own folder under it). */
  readonly workDir: string;
}

export const DEFAULT_OUT = 'bench/results';
export const DEFAULT_WORK_DIR = '/tmp/benchh';

export const HELP = `npm run bench — Orchestron beside Restate and DBOS, on this machine, in one invocation

Usage: npm run bench -- [--quick] [--systems a,b,...] [--workloads W1,...] [--reps N] [--out DIR]

  --quick          a smoke run (small counts, 1 repetition by default), under 3 minutes
  --systems        which systems, comma-separated (default all):
                   ${ALL_SYSTEMS.join(', ')}
  --workloads      which workloads, comma-separated (default all): ${WORKLOADS.join(', ')}
                     W1 chains of 1, 3, 10 no-op steps at 1 and 50 runs in flight (closed loop)
                     W2 fan-out of 10 and 100 no-op steps, then a join
                     W3 W1's 3-step chain with 10 ms of work per step
                     W4 kill -9 of the orchestrator (the peer's server) with 1,000 runs in flight
  --reps N         repetitions, interleaved: every system in turn within each (default 5; 1 with --quick)
  --out DIR        where results go (default ${DEFAULT_OUT}): <date>.json, latest.md, charts/*.svg
  --work-dir DIR   scratch space for data directories and logs (default ${DEFAULT_WORK_DIR})
  --help, -h       this text

Needs PostgreSQL on 127.0.0.1:5432 (ORCHESTRON_PG_URL) and Kafka on 127.0.0.1:9092 (npm run test:servers).
`;

/** Parses argv; throws an Error naming the bad option. Returns null for --help. */
export function parseOptions(argv: readonly string[]): BenchOptions | null {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      quick: { type: 'boolean', default: false },
      systems: { type: 'string' },
      workloads: { type: 'string' },
      reps: { type: 'string' },
      out: { type: 'string', default: DEFAULT_OUT },
      'work-dir': { type: 'string', default: DEFAULT_WORK_DIR },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return null;
  const quick = values.quick === true;
  return {
    quick,
    systems: listOf(values.systems, ALL_SYSTEMS, '--systems'),
    workloads: listOf(values.workloads, WORKLOADS, '--workloads'),
    reps: repsOf(values.reps, quick ? 1 : 5),
    out: resolve(values.out as string),
    workDir: resolve(values['work-dir'] as string),
  };
}

function listOf<T extends string>(raw: string | undefined, known: readonly T[], option: string): T[] {
  if (raw === undefined) return [...known];
  const names = raw
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  const unknown = names.filter((n) => !(known as readonly string[]).includes(n));
  if (unknown.length > 0 || names.length === 0)
    throw new Error(`${option}: unknown ${unknown.join(', ') || '(empty)'}; known: ${known.join(', ')}`);
  // Keep the canonical order, so interleaving is the same whatever order the command line gives.
  return known.filter((k) => names.includes(k));
}

function repsOf(raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const reps = Number(raw);
  if (!Number.isInteger(reps) || reps < 1 || reps > 50)
    throw new Error(`--reps must be an integer from 1 to 50, got ${JSON.stringify(raw)}`);
  return reps;
}
