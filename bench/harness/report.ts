// From measurements to the files: medians, ratios, charts, <date>.json and latest.md.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeCharts } from './charts.ts';
import type { Environment } from './environment.ts';
import { renderMarkdown } from './markdown.ts';
import type { Plan } from './plan.ts';
import { computeRatios } from './ratios.ts';
import { writeResultsJson } from './results-file.ts';
import type { BenchResults } from './results-file.ts';
import { summarize } from './results.ts';
import type { Measurement } from './results.ts';

export interface ReportInput {
  readonly plan: Plan;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly environment: Environment;
  readonly settings: Record<string, Record<string, unknown>>;
  readonly measurements: readonly Measurement[];
}

export interface Report {
  readonly results: BenchResults;
  readonly jsonFile: string;
  readonly markdownFile: string;
  readonly markdown: string;
}

export function buildResults(input: ReportInput, charts: readonly string[] = []): BenchResults {
  const { plan } = input;
  const summary = plan.systems.flatMap((system) =>
    (plan.casesBySystem[system] ?? []).map((caseId) => summarize(system, caseId, input.measurements)),
  );
  return {
    schema: 'orchestron-bench/1',
    startedAt: input.startedAt,
    finishedAt: input.finishedAt,
    quick: plan.quick,
    reps: plan.reps,
    systems: plan.systems,
    cases: plan.cases,
    environment: { ...input.environment },
    settings: input.settings,
    measurements: input.measurements,
    summary,
    ratios: computeRatios(
      input.measurements,
      plan.cases.map((c) => c.id),
    ),
    charts,
  };
}

/** Writes `<out>/<date>.json`, `<out>/latest.md` and `<out>/charts/*.svg`. */
export function writeReport(out: string, input: ReportInput): Report {
  const draft = buildResults(input);
  const charts = writeCharts(join(out, 'charts'), draft);
  const results = { ...draft, charts };
  const jsonFile = writeResultsJson(out, results);
  const markdown = renderMarkdown(results);
  const markdownFile = join(out, 'latest.md');
  writeFileSync(markdownFile, markdown);
  return { results, jsonFile, markdownFile, markdown };
}
