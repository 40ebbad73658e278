import { afterEach } from '@jest/globals';
import type { RunData } from '@orchestron/workflow-core';
import type { StartRunResult } from '../run-service.ts';

/** Polls `probe` until it returns something truthy, and returns it; fails naming `what` after `withinMs`. */
export async function eventually<T>(
  what: string,
  probe: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  withinMs = 10_000,
): Promise<T> {
  const end = Date.now() + withinMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Collects closers while a test runs and calls them after it, newest first. */
export function closeAfterEach(): (...closers: (() => Promise<void>)[]) => void {
  const closing: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const close of closing.splice(0).reverse()) await close();
  });
  return (...closers) => {
    closing.push(...closers);
  };
}

/** The run a start answered with; fails when the start was only accepted (recorded, not started in time). */
export async function startedRun(result: Promise<StartRunResult>): Promise<{ run: RunData; created: boolean }> {
  const answer = await result;
  if ('accepted' in answer) throw new Error(`run ${answer.accepted.runId} was accepted but did not start in time`);
  return answer;
}
