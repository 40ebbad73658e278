import { readFile } from 'node:fs/promises';
import { RUN_ID_ATTRIBUTE } from '../spans.ts';
import { spanIdForRun, traceIdForRun } from '../trace-ids.ts';
import type { CollectedSpan } from './otlp-json.ts';

/** The spans in an NDJSON file written by the file collector; a bad line fails with its line number. */
export async function readTraceFile(path: string): Promise<CollectedSpan[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new Error(`cannot read trace file ${path}: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
  return text.split('\n').flatMap((line, index) => {
    if (line.trim() === '') return [];
    try {
      return [JSON.parse(line) as CollectedSpan];
    } catch (error) {
      throw new Error(
        `${path}:${index + 1} is not a JSON span: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
  });
}

/**
 * One trace as an indented tree: each span with its service (and instance), its start relative to the trace's
 * first span, and its duration, children in start order. Spans whose parent is not in the file hang under a line
 * for that parent: for a run's trace, the run's own root (which no service exports), else "parent not in file".
 * Ends with a count of spans per service. `runId` names the run's root; without it, it is read from the spans.
 */
export function renderTrace(all: readonly CollectedSpan[], traceId: string, runId?: string): string {
  const spans = all.filter((span) => span.traceId === traceId).sort(byStart);
  if (spans.length === 0) return `no spans for trace ${traceId}${runId === undefined ? '' : ` (run ${runId})`}`;
  const run = runId ?? runIdOf(spans, traceId);
  const t0 = BigInt(spans[0]?.startTimeUnixNano ?? '0');
  const ids = new Set(spans.map((span) => span.spanId));
  const children = new Map<string, CollectedSpan[]>();
  const topLevel: CollectedSpan[] = [];
  const missingParents: string[] = [];
  for (const span of spans) {
    if (span.parentSpanId === undefined) {
      topLevel.push(span);
      continue;
    }
    if (!ids.has(span.parentSpanId) && !children.has(span.parentSpanId)) missingParents.push(span.parentSpanId);
    children.set(span.parentSpanId, [...(children.get(span.parentSpanId) ?? []), span]);
  }
  const lines = [
    `trace ${traceId}${run === undefined ? '' : ` (run ${run})`}: ${spans.length} span${spans.length === 1 ? '' : 's'}`,
  ];
  const walk = (span: CollectedSpan, prefix: string, last: boolean, depth: number): void => {
    lines.push(`${prefix}${depth === 0 ? '' : last ? '└─ ' : '├─ '}${describe(span, t0)}`);
    const below = children.get(span.spanId) ?? [];
    const nextPrefix = depth === 0 ? prefix : `${prefix}${last ? '   ' : '│  '}`;
    below.forEach((child, index) => walk(child, nextPrefix, index === below.length - 1, depth + 1));
  };
  for (const parent of missingParents) {
    const label =
      run !== undefined && parent === spanIdForRun(run)
        ? `run ${run} (the run's root ${parent}: not a span)`
        : `${parent} (parent not in file)`;
    lines.push(label);
    const below = children.get(parent) ?? [];
    below.forEach((child, index) => walk(child, '', index === below.length - 1, 1));
  }
  for (const span of topLevel) walk(span, '', true, 0);
  lines.push(`spans per service: ${countByService(spans)}`);
  return lines.join('\n');
}

/** One line per trace in the file: id, run, span count, services, first span. */
export function listTraces(all: readonly CollectedSpan[]): string {
  const traces = new Map<string, CollectedSpan[]>();
  for (const span of all) traces.set(span.traceId, [...(traces.get(span.traceId) ?? []), span]);
  if (traces.size === 0) return 'no spans in the file';
  return [...traces]
    .map(([traceId, spans]) => {
      const sorted = [...spans].sort(byStart);
      const run = runIdOf(sorted, traceId);
      return `${traceId}${run === undefined ? '' : ` run ${run}`}  ${spans.length} span${spans.length === 1 ? '' : 's'}  ${countByService(spans)}  first: ${sorted[0]?.name ?? ''}`;
    })
    .join('\n');
}

function describe(span: CollectedSpan, t0: bigint): string {
  const offset = Number(BigInt(span.startTimeUnixNano) - t0) / 1e6;
  const where = span.instance === undefined ? span.service : `${span.service}/${span.instance}`;
  const kind = span.kind === 'internal' || span.kind === 'unspecified' ? '' : ` (${span.kind})`;
  const error =
    span.status.code === 'error' ? `  ERROR${span.status.message === undefined ? '' : ` ${span.status.message}`}` : '';
  return `${span.name}${kind} [${where}] ${formatMs(span.durationMs)} @+${formatMs(offset)}${error}`;
}

function formatMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`;
}

function byStart(a: CollectedSpan, b: CollectedSpan): number {
  const d = BigInt(a.startTimeUnixNano) - BigInt(b.startTimeUnixNano);
  return d < 0n ? -1 : d > 0n ? 1 : 0;
}

function runIdOf(spans: readonly CollectedSpan[], traceId: string): string | undefined {
  for (const span of spans) {
    const run = span.attributes[RUN_ID_ATTRIBUTE];
    if (typeof run === 'string' && run !== '' && traceIdForRun(run) === traceId) return run;
  }
  return undefined;
}

function countByService(spans: readonly CollectedSpan[]): string {
  const counts = new Map<string, number>();
  for (const span of spans) counts.set(span.service, (counts.get(span.service) ?? 0) + 1);
  return [...counts]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([service, count]) => `${service} ${count}`)
    .join(', ');
}
