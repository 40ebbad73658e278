// The fault suite's table: one row per fault, from the rounds' results. Pure, so it is unit-tested.
import { FAULT_TITLES } from './faults.ts';
import type { RoundResult } from './round.ts';

const secs = (ms: number | undefined): string => (ms === undefined ? 'never' : `${(ms / 1000).toFixed(1)} s`);

function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** "median / worst" of the injections' recovery, or "never" when one never recovered; "—" without injections. */
export function recoveryCell(result: Pick<RoundResult, 'injections'>): string {
  if (result.injections.length === 0) return '—';
  const times = result.injections.map((i) => i.recovery.recoveredMs);
  if (times.some((t) => t === undefined))
    return `never (${times.filter((t) => t === undefined).length} of ${times.length})`;
  const known = times as number[];
  return `${secs(median(known))} / ${secs(Math.max(...known))}`;
}

export function stallCell(result: Pick<RoundResult, 'injections'>): string {
  if (result.injections.length === 0) return '—';
  return secs(Math.max(...result.injections.map((i) => i.recovery.stallMs)));
}

/** Whether a round passed: nothing lost, stuck, wrong or executed twice, and no 5xx but a retryable 503. */
export function passed(result: RoundResult): boolean {
  return (
    result.lost === 0 &&
    result.stuck === 0 &&
    result.wrong === 0 &&
    result.duplicates === 0 &&
    result.serverErrors === 0
  );
}

export function faultTable(results: readonly RoundResult[]): string {
  const header = [
    '| fault | injections | runs | peak in flight | lost | stuck | wrong outcome | duplicate executions | 5xx (503 retryable) | unanswered calls | longest stall | recovered (median / worst) | verdict |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  const rows = results.map((r) => {
    const retryable = r.statuses.get(503) ?? 0;
    return `| ${FAULT_TITLES[r.fault]} | ${r.injections.length} | ${r.started} | ${r.peakInFlight} | ${r.lost} | ${r.stuck} | ${r.wrong} | ${r.duplicates} | ${r.serverErrors} (${retryable}) | ${r.unanswered} | ${stallCell(r)} | ${recoveryCell(r)} | ${passed(r) ? 'pass' : 'FAIL'} |`;
  });
  return [...header, ...rows].join('\n');
}

/** Each injection on a line: what was hit, when in the round, how long it lasted and how the stack came back. */
export function injectionLines(result: RoundResult): string[] {
  return result.injections.map(
    (i, n) =>
      `${result.fault} #${n + 1}: ${i.target} at +${secs(i.at - result.startedAt)} with ${i.inFlight} in flight; over after ${secs(i.clearedAt - i.at)}; ` +
      `rate before ${i.recovery.rateBefore.toFixed(1)}/s, longest stall ${secs(i.recovery.stallMs)}, back to 80% after ${secs(i.recovery.recoveredMs)}`,
  );
}
