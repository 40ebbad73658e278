// The results file: bench/results/<ISO date-time>.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RatioRow } from './ratios.ts';
import type { CaseSummary, Measurement } from './results.ts';
import type { Case, SystemName } from './types.ts';

export interface BenchResults {
  readonly schema: 'orchestron-bench/1';
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly quick: boolean;
  readonly reps: number;
  readonly systems: readonly SystemName[];
  readonly cases: readonly Case[];
  readonly environment: Record<string, unknown>;
  readonly settings: Record<string, Record<string, unknown>>;
  readonly measurements: readonly Measurement[];
  readonly summary: readonly CaseSummary[];
  readonly ratios: readonly RatioRow[];
  readonly charts: readonly string[];
}

/** `<out>/<ISO date-time>.json`; the name has no colons, so it is a valid file name everywhere. */
export function writeResultsJson(out: string, results: BenchResults): string {
  mkdirSync(out, { recursive: true });
  const file = join(out, `${results.startedAt.replaceAll(':', '-').replace(/\.\d+Z$/, 'Z')}.json`);
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  return file;
}
