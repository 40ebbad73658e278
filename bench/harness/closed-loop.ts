// The closed loop every driver runs its workload through: `inFlight` lanes, each starting its next run when the
// last one is done, until `count` runs started or `maxSeconds` passed.
import { performance } from 'node:perf_hooks';
import type { WorkloadSample } from './types.ts';

/** One run: resolves with the number of steps it executed; throws when it did not complete. */
export type RunOnce = (index: number) => Promise<number>;

export async function closedLoop(
  inFlight: number,
  count: number,
  maxSeconds: number,
  runOnce: RunOnce,
): Promise<WorkloadSample> {
  const latenciesMs: number[] = [];
  let started = 0;
  let steps = 0;
  let failed = 0;
  let firstError: string | undefined;
  const t0 = performance.now();
  const deadline = t0 + maxSeconds * 1000;
  const lane = async (): Promise<void> => {
    while (started < count && performance.now() < deadline) {
      const index = started++;
      const begin = performance.now();
      try {
        const done = await runOnce(index);
        steps += done;
        latenciesMs.push(performance.now() - begin);
      } catch (error) {
        failed++;
        firstError ??= error instanceof Error ? error.message : String(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, inFlight) }, lane));
  return {
    runs: latenciesMs.length,
    failed,
    steps,
    seconds: (performance.now() - t0) / 1000,
    latenciesMs,
    ...(firstError !== undefined ? { firstError } : {}),
  };
}

/** Runs `tasks` with at most `limit` at once; resolves with their results in order. */
export async function withLimit<T>(limit: number, tasks: readonly (() => Promise<T>)[]): Promise<T[]> {
  const results: T[] = new Array<T>(tasks.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.max(1, Math.min(limit, tasks.length)) }, async () => {
      while (next < tasks.length) {
        const i = next++;
        results[i] = await (tasks[i] as () => Promise<T>)();
      }
    }),
  );
  return results;
}
